"""Queries behind each owner's facts row: the projections of other services' events, the
counts the lifecycle is derived from, tags and the points ledger."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.profile.domain import OrderStatus, PointsCause
from services.profile.models import (
    BehaviourSnapshot,
    FeedbackScore,
    LifecycleEntry,
    Order,
    OwnerFacts,
    OwnerTag,
    PointsEntry,
    ServiceDue,
    ServiceVisit,
    TicketProjection,
    utc_now,
)

M = TypeVar("M", bound=SQLModel)
FAMILY_DESTINATIONS = ("school", "supermarket")


class FactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(
            insert(OwnerFacts)
            .values(owner_id=owner_id, updated_at=utc_now())
            .on_conflict_do_nothing()
        )

    async def for_update(self, owner_id: uuid.UUID) -> OwnerFacts | None:
        return await self.session.scalar(
            select(OwnerFacts).where(OwnerFacts.owner_id == owner_id).with_for_update()
        )

    async def get(self, owner_id: uuid.UUID) -> OwnerFacts | None:
        return await self.session.get(OwnerFacts, owner_id)

    async def upsert(self, model: type, values: dict[str, Any], *, key: list[str]) -> None:
        """Stores a projection row, replacing the one with the same key."""
        await self.session.execute(
            insert(model)
            .values(**values)
            .on_conflict_do_update(
                index_elements=key, set_={k: v for k, v in values.items() if k not in key}
            )
        )

    # What the facts row is derived from

    async def scores(self, owner_id: uuid.UUID) -> Sequence[FeedbackScore]:
        rows = await self.session.scalars(
            select(FeedbackScore)
            .where(FeedbackScore.owner_id == owner_id)
            .order_by(FeedbackScore.submitted_at)
        )
        return rows.all()

    async def tickets(self, owner_id: uuid.UUID, *, open_only: bool) -> Sequence[TicketProjection]:
        filters = [TicketProjection.owner_id == owner_id]
        if open_only:
            filters.append(TicketProjection.open)
        rows = await self.session.scalars(
            select(TicketProjection).where(*filters).order_by(TicketProjection.created_at)
        )
        return rows.all()

    async def ticket(self, ticket_id: uuid.UUID) -> TicketProjection | None:
        return await self.session.get(TicketProjection, ticket_id, with_for_update=True)

    async def latest_behaviour(self, owner_id: uuid.UUID) -> BehaviourSnapshot | None:
        return await self.session.scalar(
            select(BehaviourSnapshot)
            .where(BehaviourSnapshot.owner_id == owner_id)
            .order_by(BehaviourSnapshot.computed_at.desc())
            .limit(1)
        )

    async def of_vehicle(self, model: type[M], vehicle_id: uuid.UUID) -> M | None:
        """A per-vehicle projection row (behaviour or service due), locked for replacing."""
        return await self.session.get(model, vehicle_id, with_for_update=True)

    async def earliest_service_due(self, owner_id: uuid.UUID) -> date | None:
        return await self.session.scalar(
            select(func.min(ServiceDue.due_date)).where(ServiceDue.owner_id == owner_id)
        )

    async def tags(self, owner_id: uuid.UUID) -> list[str]:
        rows = await self.session.scalars(
            select(OwnerTag.tag).where(OwnerTag.owner_id == owner_id).order_by(OwnerTag.tag)
        )
        return list(rows)

    async def tag(self, owner_id: uuid.UUID, tag: str, source: str, at: datetime) -> None:
        await self.session.execute(
            insert(OwnerTag)
            .values(owner_id=owner_id, tag=tag, source=source, added_at=at)
            .on_conflict_do_nothing()
        )

    async def untag(self, owner_id: uuid.UUID, tag: str) -> None:
        await self.session.execute(
            delete(OwnerTag).where(OwnerTag.owner_id == owner_id, OwnerTag.tag == tag)
        )

    async def forget_tags(self, owner_id: uuid.UUID) -> int:
        result = await self.session.execute(delete(OwnerTag).where(OwnerTag.owner_id == owner_id))
        return result.rowcount

    async def lifecycle_counts(self, owner_id: uuid.UUID) -> dict[str, int]:
        orders = await self.session.scalar(
            select(func.count()).where(
                Order.owner_id == owner_id, Order.status != OrderStatus.CANCELLED
            )
        )
        delivered = await self.session.scalar(
            select(func.count()).where(
                Order.owner_id == owner_id, Order.status == OrderStatus.DELIVERED
            )
        )
        visits = await self.session.scalar(
            select(func.count()).where(ServiceVisit.owner_id == owner_id)
        )
        referrals = await self.session.scalar(
            select(func.count()).where(
                PointsEntry.owner_id == owner_id, PointsEntry.cause == PointsCause.REFERRAL
            )
        )
        return {
            "orders": orders or 0,
            "delivered_orders": delivered or 0,
            "service_visits": visits or 0,
            "converted_referrals": referrals or 0,
        }

    async def lifecycle_history(self, owner_id: uuid.UUID) -> Sequence[LifecycleEntry]:
        rows = await self.session.scalars(
            select(LifecycleEntry)
            .where(LifecycleEntry.owner_id == owner_id)
            .order_by(LifecycleEntry.changed_at)
        )
        return rows.all()

    # Points

    async def points_entry(self, reference: str) -> PointsEntry | None:
        return await self.session.scalar(
            select(PointsEntry).where(PointsEntry.reference == reference)
        )

    async def points_entries(self, owner_id: uuid.UUID) -> Sequence[PointsEntry]:
        rows = await self.session.scalars(
            select(PointsEntry).where(PointsEntry.owner_id == owner_id).order_by(PointsEntry.seq)
        )
        return rows.all()
