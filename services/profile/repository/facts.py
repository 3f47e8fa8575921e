"""Queries behind each owner's facts row: the projections of other services' events, the
counts the lifecycle is derived from, tags and the points ledger."""

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.profile.domain import OrderStatus, PointsCause
from services.profile.models import (
    BehaviourSnapshot,
    FeedbackScore,
    LifecycleEntry,
    Order,
    Owner,
    OwnerFacts,
    OwnerTag,
    PointsEntry,
    ServiceDue,
    ServiceVisit,
    TicketProjection,
    utc_now,
)
from shared.repository import Repository

M = TypeVar("M", bound=SQLModel)
T = TypeVar("T")
FAMILY_DESTINATIONS = ("school", "supermarket")
LIFECYCLE_COUNTS = ("orders", "delivered_orders", "service_visits", "converted_referrals")


def _grouped(
    owner_ids: Collection[uuid.UUID], rows: Iterable[T], owner_of: Callable[[T], uuid.UUID | None]
) -> dict[uuid.UUID, list[T]]:
    """Rows per owner, in the order they came; an empty list for an owner with none."""
    grouped: dict[uuid.UUID, list[T]] = {owner_id: [] for owner_id in owner_ids}
    for row in rows:
        grouped[owner_of(row)].append(row)
    return grouped


class FactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, owner_id: uuid.UUID) -> None:
        await self.ensure_many([owner_id])

    async def ensure_many(self, owner_ids: Collection[uuid.UUID]) -> None:
        """Starts the facts rows that are missing, in one statement."""
        if not owner_ids:
            return
        now = utc_now()
        # Parameter sets, not one VALUES list: the statement compiles once and is cached.
        await self.session.execute(
            insert(OwnerFacts).on_conflict_do_nothing(),
            [{"owner_id": owner_id, "updated_at": now} for owner_id in owner_ids],
        )

    async def owners(self, owner_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Owner]:
        rows = await self.session.scalars(select(Owner).where(Owner.id.in_(owner_ids)))
        return {owner.id: owner for owner in rows}

    async def for_update(self, owner_id: uuid.UUID) -> OwnerFacts | None:
        return (await self.lock_many([owner_id])).get(owner_id)

    async def lock_many(self, owner_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, OwnerFacts]:
        """The facts rows, locked in owner id order (so two batches never wait on each other
        in a circle)."""
        rows = await self.session.scalars(
            select(OwnerFacts)
            .where(OwnerFacts.owner_id.in_(owner_ids))
            .order_by(OwnerFacts.owner_id)
            .with_for_update()
        )
        return {facts.owner_id: facts for facts in rows}

    async def get(self, owner_id: uuid.UUID) -> OwnerFacts | None:
        return await self.session.get(OwnerFacts, owner_id)

    async def upsert(self, model: type, values: dict[str, Any]) -> None:
        """Stores a projection row, replacing the one with the same primary key."""
        await Repository(self.session).upsert(model, values)

    # What the facts row is derived from

    async def scores(self, owner_id: uuid.UUID) -> Sequence[FeedbackScore]:
        return (await self.scores_of([owner_id]))[owner_id]

    async def scores_of(
        self, owner_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, list[FeedbackScore]]:
        """Each owner's NPS and CSAT answers, oldest first."""
        rows = await self.session.scalars(
            select(FeedbackScore)
            .where(FeedbackScore.owner_id.in_(owner_ids))
            .order_by(FeedbackScore.submitted_at)
        )
        return _grouped(owner_ids, rows, lambda score: score.owner_id)

    async def tickets(self, owner_id: uuid.UUID, *, open_only: bool) -> Sequence[TicketProjection]:
        return (await self.tickets_of([owner_id], open_only=open_only))[owner_id]

    async def tickets_of(
        self, owner_ids: Collection[uuid.UUID], *, open_only: bool
    ) -> dict[uuid.UUID, list[TicketProjection]]:
        filters = [TicketProjection.owner_id.in_(owner_ids)]
        if open_only:
            filters.append(TicketProjection.open)
        rows = await self.session.scalars(
            select(TicketProjection).where(*filters).order_by(TicketProjection.created_at)
        )
        return _grouped(owner_ids, rows, lambda ticket: ticket.owner_id)

    async def ticket(self, ticket_id: uuid.UUID) -> TicketProjection | None:
        return await self.session.get(TicketProjection, ticket_id, with_for_update=True)

    async def latest_behaviour(self, owner_id: uuid.UUID) -> BehaviourSnapshot | None:
        return (await self.latest_behaviours([owner_id])).get(owner_id)

    async def latest_behaviours(
        self, owner_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, BehaviourSnapshot]:
        """Each owner's most recent behaviour window (of any of their vehicles)."""
        rows = await self.session.scalars(
            select(BehaviourSnapshot)
            .where(BehaviourSnapshot.owner_id.in_(owner_ids))
            .order_by(BehaviourSnapshot.owner_id, BehaviourSnapshot.computed_at.desc())
            .ext(distinct_on(BehaviourSnapshot.owner_id))
        )
        return {snapshot.owner_id: snapshot for snapshot in rows if snapshot.owner_id}

    async def of_vehicle(self, model: type[M], vehicle_id: uuid.UUID) -> M | None:
        """A per-vehicle projection row (behaviour or service due), locked for replacing."""
        return await self.session.get(model, vehicle_id, with_for_update=True)

    async def earliest_service_dues(
        self, owner_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, date]:
        rows = await self.session.execute(
            select(ServiceDue.owner_id, func.min(ServiceDue.due_date))
            .where(ServiceDue.owner_id.in_(owner_ids))
            .group_by(ServiceDue.owner_id)
        )
        return {owner_id: due for owner_id, due in rows if owner_id}

    async def tags(self, owner_id: uuid.UUID) -> list[str]:
        return (await self.tags_of([owner_id]))[owner_id]

    async def tags_of(self, owner_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        rows = await self.session.execute(
            select(OwnerTag.owner_id, OwnerTag.tag)
            .where(OwnerTag.owner_id.in_(owner_ids))
            .order_by(OwnerTag.owner_id, OwnerTag.tag)
        )
        tags = _grouped(owner_ids, rows, lambda row: row.owner_id)
        return {owner_id: [row.tag for row in found] for owner_id, found in tags.items()}

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

    async def lifecycle_counts(
        self, owner_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, int]]:
        """Per owner, what the lifecycle stage is derived from (see domain.lifecycle_stage),
        in one statement."""

        def counted(owner_column: Any, *conditions: Any) -> Any:
            return (
                select(func.count())
                .where(owner_column == Owner.id, *conditions)
                .correlate(Owner)
                .scalar_subquery()
            )

        rows = await self.session.execute(
            select(
                Owner.id,
                counted(Order.owner_id, Order.status != OrderStatus.CANCELLED),
                counted(Order.owner_id, Order.status == OrderStatus.DELIVERED),
                counted(ServiceVisit.owner_id),
                counted(PointsEntry.owner_id, PointsEntry.cause == PointsCause.REFERRAL),
            ).where(Owner.id.in_(owner_ids))
        )
        counts = {owner_id: dict.fromkeys(LIFECYCLE_COUNTS, 0) for owner_id in owner_ids}
        for owner_id, *values in rows:
            counts[owner_id] = dict(zip(LIFECYCLE_COUNTS, values, strict=True))
        return counts

    async def lifecycle_history(self, owner_id: uuid.UUID) -> Sequence[LifecycleEntry]:
        rows = await self.session.scalars(
            select(LifecycleEntry)
            .where(LifecycleEntry.owner_id == owner_id)
            .order_by(LifecycleEntry.changed_at)
        )
        return rows.all()

    # Points

    async def counted_references(self, references: Collection[str]) -> set[str]:
        """Which of these points references have an entry already."""
        rows = await self.session.scalars(
            select(PointsEntry.reference).where(PointsEntry.reference.in_(references))
        )
        return set(rows)

    async def points_entries(self, owner_id: uuid.UUID) -> Sequence[PointsEntry]:
        rows = await self.session.scalars(
            select(PointsEntry).where(PointsEntry.owner_id == owner_id).order_by(PointsEntry.seq)
        )
        return rows.all()
