"""Queries of owner keys, identity matches and merges, erasure requests and the audit log."""

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import (
    AuditEntry,
    Consent,
    ErasureConfirmation,
    ErasureRequest,
    InteractionEvent,
    Owner,
    OwnerDealer,
    OwnerKey,
    OwnerMerge,
    OwnerTag,
)
from shared.pagination import PageParams


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keys_of(self, owner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        rows = await self.session.scalars(select(OwnerKey).where(OwnerKey.owner_id.in_(owner_ids)))
        return {row.owner_id: row.wrapped_key for row in rows}

    async def destroy_key(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(OwnerKey).where(OwnerKey.owner_id == owner_id))

    async def same_person(self, owner: Owner) -> list[Owner]:
        """Other live owners with one of the owner's verified contacts, verified too."""
        return [other for other in await self.verified_holders([owner]) if other.id != owner.id]

    async def verified_holders(self, owners: Sequence[Owner]) -> Sequence[Owner]:
        """Live owners (these among them) holding, verified, a contact one of these owners
        holds verified: one query for a batch's worth."""
        matches = []
        for kind in ("email", "phone"):
            verified = [o for o in owners if getattr(o, f"{kind}_verified_by")]
            hashes = {getattr(o, f"{kind}_hash") for o in verified}
            if hashes := hashes - {None}:
                held = getattr(Owner, f"{kind}_hash").in_(hashes)
                matches.append(and_(held, getattr(Owner, f"{kind}_verified_by").is_not(None)))
        if not matches:
            return []
        rows = await self.session.scalars(
            select(Owner).where(
                or_(*matches), Owner.merged_into.is_(None), Owner.erased_at.is_(None)
            )
        )
        return rows.all()

    async def move_owner_rows(
        self, models: Sequence[type], merged_id: uuid.UUID, survivor_id: uuid.UUID
    ) -> dict[str, int]:
        """Points every row of `models` at the survivor; returns how many moved per table."""
        moved = {}
        for model in models:
            result = await self.session.execute(
                update(model).where(model.owner_id == merged_id).values(owner_id=survivor_id)
            )
            moved[model.__tablename__] = result.rowcount
        return moved

    async def clear_clashing_client_ids(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
        """A client event id is unique per owner: the duplicate's copies give theirs up."""
        survivors = select(InteractionEvent.client_event_id).where(
            InteractionEvent.owner_id == survivor_id, InteractionEvent.client_event_id.is_not(None)
        )
        await self.session.execute(
            update(InteractionEvent)
            .where(
                InteractionEvent.owner_id == merged_id,
                InteractionEvent.client_event_id.in_(survivors),
            )
            .values(client_event_id=None)
        )

    async def move_dealer_links(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> int:
        """The survivor gains every dealer relation the duplicate had, and the dealer's own id
        for it where the survivor has none from that dealer (so the dealer's next import finds
        the survivor, not a new person)."""
        links = (
            await self.session.scalars(select(OwnerDealer).where(OwnerDealer.owner_id == merged_id))
        ).all()
        for link in links:
            kept = await self.session.get(OwnerDealer, (survivor_id, link.dealer_id))
            external_id = link.external_id if kept is None or kept.external_id is None else None
            if external_id:
                link.external_id = None  # unique per dealer: freed before it moves
                await self.session.flush()
            if kept is None:
                self.session.add(
                    OwnerDealer(owner_id=survivor_id, dealer_id=link.dealer_id,
                                relation=link.relation, external_id=external_id)
                )  # fmt: skip
            elif external_id:
                kept.external_id = external_id
            await self.session.flush()
        return len(links)

    async def move_tags(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> int:
        tags = (
            await self.session.scalars(select(OwnerTag).where(OwnerTag.owner_id == merged_id))
        ).all()
        for tag in tags:
            await self.session.execute(
                insert(OwnerTag)
                .values(owner_id=survivor_id, tag=tag.tag, source=tag.source, added_at=tag.added_at)
                .on_conflict_do_nothing()
            )
        await self.session.execute(delete(OwnerTag).where(OwnerTag.owner_id == merged_id))
        return len(tags)

    async def move_newer_consents(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> int:
        """Per purpose and channel, the most recent answer of either record stands."""
        moved = 0
        merged = (
            await self.session.scalars(select(Consent).where(Consent.owner_id == merged_id))
        ).all()
        for consent in merged:
            current = await self.session.get(
                Consent, (survivor_id, consent.purpose, consent.channel), with_for_update=True
            )
            values = {
                "granted": consent.granted,
                "notice_version": consent.notice_version,
                "source": consent.source,
                "changed_at": consent.changed_at,
            }
            if current is None:
                self.session.add(
                    Consent(
                        owner_id=survivor_id,
                        purpose=consent.purpose,
                        channel=consent.channel,
                        **values,
                    )
                )
                moved += 1
            elif current.changed_at < consent.changed_at:
                for name, value in values.items():
                    setattr(current, name, value)
                moved += 1
        await self.session.flush()
        return moved

    async def merges_of(self, owner_id: uuid.UUID) -> Sequence[OwnerMerge]:
        rows = await self.session.scalars(
            select(OwnerMerge)
            .where(or_(OwnerMerge.survivor_id == owner_id, OwnerMerge.merged_id == owner_id))
            .order_by(OwnerMerge.merged_at)
        )
        return rows.all()

    async def erasure_request(
        self, request_id: uuid.UUID, *, for_update: bool = False
    ) -> ErasureRequest | None:
        return await self.session.get(ErasureRequest, request_id, with_for_update=for_update)

    async def erasure_requests_of(self, owner_id: uuid.UUID) -> Sequence[ErasureRequest]:
        rows = await self.session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.owner_id == owner_id)
            .order_by(ErasureRequest.requested_at)
        )
        return rows.all()

    async def confirm(self, confirmation: ErasureConfirmation) -> None:
        """Keeps a service's first confirmation of a request (a repeat changes nothing)."""
        await self.session.execute(
            insert(ErasureConfirmation)
            .values(**confirmation.model_dump())
            .on_conflict_do_nothing(index_elements=["request_id", "service"])
        )

    async def confirmations(self, request_id: uuid.UUID) -> Sequence[ErasureConfirmation]:
        rows = await self.session.scalars(
            select(ErasureConfirmation)
            .where(ErasureConfirmation.request_id == request_id)
            .order_by(ErasureConfirmation.completed_at)
        )
        return rows.all()

    async def add_audit_entry(self, entry: AuditEntry) -> None:
        """Keeps the first entry of an id (an event's entry, delivered again, changes nothing)."""
        await self.session.execute(
            insert(AuditEntry)
            .values(**entry.model_dump())
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def audit_entries(self, owner_id: uuid.UUID, page: PageParams) -> Sequence[AuditEntry]:
        rows = await self.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.owner_id == owner_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all()
