"""Every gateway query. Flushes, never commits."""

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import ApiKey, KnownDealer

KEY_CHANNEL = "cem_api_keys"


class GatewayRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_dealer(self, dealer: KnownDealer) -> None:
        values = dealer.model_dump()
        await self.session.execute(
            insert(KnownDealer)
            .values(**values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def get_dealer(self, dealer_id: uuid.UUID) -> KnownDealer | None:
        return await self.session.get(KnownDealer, dealer_id)

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

    async def dealer_keys(self, dealer_id: uuid.UUID) -> Sequence[ApiKey]:
        rows = await self.session.scalars(
            select(ApiKey).where(ApiKey.dealer_id == dealer_id).order_by(ApiKey.created_at)
        )
        return rows.all()

    async def count_active_keys(self, dealer_id: uuid.UUID) -> int:
        return (
            await self.session.scalar(
                select(func.count())
                .select_from(ApiKey)
                .where(ApiKey.dealer_id == dealer_id, ApiKey.revoked_at.is_(None))
            )
            or 0
        )

    async def lock_dealer_keys(self, dealer_id: uuid.UUID) -> None:
        """Serialises key changes per dealer, so two requests cannot both add a third key."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"keys:{dealer_id}")))
        )

    async def announce_key_change(self, key_id: str) -> None:
        """Every gateway replica drops the key from its cache when this commits."""
        await self.session.execute(
            text("SELECT pg_notify(:channel, :key_id)"), {"channel": KEY_CHANNEL, "key_id": key_id}
        )

    async def mark_used(self, key_ids: Sequence[str]) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id.in_(key_ids)).values(last_used_at=func.now())
        )
