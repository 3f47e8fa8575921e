"""Every gateway query. Flushes, never commits."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import ApiKey, IdempotentRequest, KnownDealer, KnownDealerGroup
from gateway.schemas import KeyHolder

KEY_CHANNEL = "cem_api_keys"
GROUP_PREFIX = "group:"  # a notification naming a dealer group rather than one key
DEALER_FACTS = ("code", "name", "region")


def _owned_by(holder: KeyHolder) -> ColumnElement[bool]:
    if holder.dealer_group_id:
        return ApiKey.dealer_group_id == holder.dealer_group_id
    return ApiKey.dealer_id == holder.dealer_id


class GatewayRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_dealer(self, dealer: KnownDealer) -> None:
        """Records a dealer's facts; its group is changed only by `move_dealer`."""
        values = dealer.model_dump(include={"id", *DEALER_FACTS})
        await self.session.execute(
            insert(KnownDealer)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["id"], set_={name: values[name] for name in DEALER_FACTS}
            )
        )

    async def dealer_for_update(self, dealer_id: uuid.UUID) -> KnownDealer | None:
        return await self.session.scalar(
            select(KnownDealer).where(KnownDealer.id == dealer_id).with_for_update()
        )

    async def upsert_dealer_group(self, group: KnownDealerGroup) -> None:
        values = group.model_dump()
        await self.session.execute(
            insert(KnownDealerGroup)
            .values(**values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def holder_known(self, holder: KeyHolder) -> bool:
        if holder.dealer_group_id:
            return await self.session.get(KnownDealerGroup, holder.dealer_group_id) is not None
        return await self.session.get(KnownDealer, holder.dealer_id) is not None

    async def group_dealers(self, group_id: uuid.UUID) -> frozenset[uuid.UUID]:
        rows = await self.session.scalars(
            select(KnownDealer.id).where(KnownDealer.group_id == group_id)
        )
        return frozenset(rows)

    async def add_key(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def get_key(self, key_id: str, *, for_update: bool = False) -> ApiKey | None:
        statement = select(ApiKey).where(ApiKey.id == key_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def active_key(self, key_id: str) -> ApiKey | None:
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        )

    async def holder_keys(self, holder: KeyHolder) -> Sequence[ApiKey]:
        rows = await self.session.scalars(
            select(ApiKey).where(_owned_by(holder)).order_by(ApiKey.created_at)
        )
        return rows.all()

    async def count_active_keys(self, holder: KeyHolder) -> int:
        return (
            await self.session.scalar(
                select(func.count())
                .select_from(ApiKey)
                .where(_owned_by(holder), ApiKey.revoked_at.is_(None))
            )
            or 0
        )

    async def lock_holder_keys(self, holder: KeyHolder) -> None:
        """Serialises key changes per holder, so two requests cannot both add a third key."""
        holder_id = holder.dealer_group_id or holder.dealer_id
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"keys:{holder_id}")))
        )

    async def announce_key_change(self, key_id: str) -> None:
        """Every gateway replica drops the key from its cache when this commits."""
        await self.session.execute(
            text("SELECT pg_notify(:channel, :key_id)"), {"channel": KEY_CHANNEL, "key_id": key_id}
        )

    async def announce_group_change(self, group_ids: Iterable[uuid.UUID]) -> None:
        """Every replica drops the groups' keys from its cache on commit, so they are checked
        again and see the groups' dealers as they are now: named by group, not by key, so a
        key first used while this transaction was open is dropped too."""
        for group_id in group_ids:
            await self.announce_key_change(f"{GROUP_PREFIX}{group_id}")

    async def mark_used(self, key_ids: Sequence[str]) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id.in_(key_ids)).values(last_used_at=func.now())
        )


class IdempotentRequests:
    """The claims and stored answers of requests sent with an `Idempotency-Key`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, claim: IdempotentRequest, *, abandoned_before: datetime) -> bool:
        """Takes the key for this request: a new one, an expired one, or one whose claim a
        gateway left running past `abandoned_before` (it died holding it)."""
        stored = IdempotentRequest
        values = claim.model_dump()
        claimed = await self.session.scalar(
            insert(stored)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["caller", "key"],
                set_={name: values[name] for name in values if name not in ("caller", "key")},
                where=or_(
                    stored.expires_at < claim.created_at,
                    stored.status.is_(None) & (stored.created_at < abandoned_before),
                ),
            )
            .returning(stored.key)
        )
        return claimed is not None

    async def get(self, caller: str, key: str) -> IdempotentRequest | None:
        return await self.session.scalar(
            select(IdempotentRequest).where(
                IdempotentRequest.caller == caller, IdempotentRequest.key == key
            )
        )

    async def finish(
        self,
        caller: str,
        key: str,
        *,
        status: int,
        content_type: str | None,
        location: str | None,
        body: bytes,
    ) -> None:
        await self.session.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.caller == caller, IdempotentRequest.key == key)
            .values(status=status, content_type=content_type, location=location, body=body)
        )

    async def release(self, caller: str, key: str) -> None:
        await self.session.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.caller == caller,
                IdempotentRequest.key == key,
                IdempotentRequest.status.is_(None),
            )
        )

    async def purge_expired(self, now: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotentRequest).where(IdempotentRequest.expires_at < now)
        )
        return result.rowcount
