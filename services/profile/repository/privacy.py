"""Queries of owner keys, identity matches and merges, erasure requests and the audit log."""

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import (
    AuditEntry,
    ErasureConfirmation,
    ErasureRequest,
    Owner,
    OwnerKey,
    OwnerMerge,
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

    async def same_person(self, owner: Owner) -> Sequence[Owner]:
        """Other live owners with the same email or phone hash."""
        matches = [
            condition
            for condition in (
                Owner.email_hash == owner.email_hash if owner.email_hash else None,
                Owner.phone_hash == owner.phone_hash if owner.phone_hash else None,
            )
            if condition is not None
        ]
        if not matches:
            return []
        rows = await self.session.scalars(
            select(Owner).where(
                or_(*matches),
                Owner.id != owner.id,
                Owner.merged_into.is_(None),
                Owner.erased_at.is_(None),
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

    async def confirmations(self, request_id: uuid.UUID) -> Sequence[ErasureConfirmation]:
        rows = await self.session.scalars(
            select(ErasureConfirmation)
            .where(ErasureConfirmation.request_id == request_id)
            .order_by(ErasureConfirmation.completed_at)
        )
        return rows.all()

    async def audit_entries(self, owner_id: uuid.UUID, page: PageParams) -> Sequence[AuditEntry]:
        rows = await self.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.owner_id == owner_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all()
