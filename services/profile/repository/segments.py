"""Segment conditions compiled to SQL, and the queries of segments and memberships."""

import operator
import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    Text,
    and_,
    any_,
    delete,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.conditions import And, Compare, Condition, HasTag, In, Not, Or, PastEvent
from services.profile.models import InteractionEvent, Owner, OwnerFacts, Segment, SegmentMembership
from services.profile.repository.core import owner_scope
from shared.auth import Caller
from shared.pagination import PageParams


def _attribute_column(name: str, today: date) -> Any:
    match name:
        case "city":
            return Owner.city
        case "preferred_language":
            return Owner.preferred_language
        case "service_due_in_days":
            return OwnerFacts.service_due_date - today
    return getattr(OwnerFacts, name)


def compile_condition(condition: Condition, *, now: datetime) -> ColumnElement[bool]:
    """A WHERE clause over `owner_facts` joined to `owners` that holds exactly when
    `conditions.evaluate` does (unknown attributes never satisfy a comparison)."""
    match condition:
        case And():
            return and_(true(), *(compile_condition(c, now=now) for c in condition.conditions))
        case Or():
            return or_(false(), *(compile_condition(c, now=now) for c in condition.conditions))
        case Not():
            return not_(compile_condition(condition.condition, now=now))
        case Compare():
            column = _attribute_column(condition.attribute, now.date())
            return and_(
                column.is_not(None), _OPERATORS[condition.op](column, _typed(condition.value))
            )
        case In():
            column = _attribute_column(condition.attribute, now.date())
            return and_(column.is_not(None), column.in_([_typed(v) for v in condition.values]))
        case HasTag():
            return literal(condition.tag, Text()) == any_(OwnerFacts.tags)
        case PastEvent():
            return _event_count(condition, now) >= condition.min_count
    raise AssertionError(f"unhandled condition {condition!r}")


def _typed(value: Any) -> Any:
    """The value with its own SQL type: bound with the column's type, 0.3 against an integer
    column would be cut to 0 and compare unlike Python does."""
    if isinstance(value, bool):
        return literal(value, Boolean())
    if isinstance(value, int):
        return literal(value, BigInteger())
    if isinstance(value, float):
        return literal(value, Float())
    return literal(value, Text())


def _event_count(condition: PastEvent, now: datetime) -> Any:
    filters = [
        InteractionEvent.owner_id == OwnerFacts.owner_id,
        InteractionEvent.type == condition.event_type,
        InteractionEvent.occurred_at >= now - timedelta(days=condition.within_days),
        InteractionEvent.occurred_at <= now,
    ]
    if condition.where:
        filters.append(InteractionEvent.properties.contains(condition.where))
    # Counting stops at `min_count`: whether the owner has that many is all that matters.
    enough = (
        select(InteractionEvent.id)
        .where(*filters)
        .correlate(OwnerFacts)
        .limit(condition.min_count)
        .subquery()
    )
    return select(func.count()).select_from(enough).scalar_subquery()


_OPERATORS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def _matching(condition: Condition, caller: Caller | None, now: datetime) -> Any:
    scope = owner_scope(caller) if caller else true()
    return (
        select(OwnerFacts.owner_id)
        .join(Owner, Owner.id == OwnerFacts.owner_id)
        .where(
            Owner.merged_into.is_(None),
            Owner.erased_at.is_(None),
            scope,
            compile_condition(condition, now=now),
        )
    )


class SegmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count_matching(
        self, condition: Condition, *, caller: Caller | None, now: datetime
    ) -> int:
        query = _matching(condition, caller, now).subquery()
        return await self.session.scalar(select(func.count()).select_from(query)) or 0

    async def sample_matching(
        self, condition: Condition, *, caller: Caller | None, now: datetime, limit: int
    ) -> list[uuid.UUID]:
        query = _matching(condition, caller, now).order_by(OwnerFacts.owner_id).limit(limit)
        return list(await self.session.scalars(query))

    async def all_matching(self, condition: Condition, *, now: datetime) -> set[uuid.UUID]:
        return set(await self.session.scalars(_matching(condition, None, now)))

    async def segments(self) -> Sequence[Segment]:
        return (await self.session.scalars(select(Segment).order_by(Segment.key))).all()

    async def segment(self, key: str, *, for_update: bool = False) -> Segment | None:
        statement = select(Segment).where(Segment.key == key)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def members(self, key: str) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(SegmentMembership.owner_id).where(SegmentMembership.segment_key == key)
        )
        return set(rows)

    async def memberships_of(self, owner_id: uuid.UUID) -> dict[str, SegmentMembership]:
        return (await self.memberships_of_owners([owner_id]))[owner_id]

    async def memberships_of_owners(
        self, owner_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, SegmentMembership]]:
        """Per owner, their memberships by segment key."""
        memberships: dict[uuid.UUID, dict[str, SegmentMembership]] = {o: {} for o in owner_ids}
        rows = await self.session.scalars(
            select(SegmentMembership).where(SegmentMembership.owner_id.in_(owner_ids))
        )
        for row in rows:
            memberships[row.owner_id][row.segment_key] = row
        return memberships

    async def enter(self, key: str, owner_id: uuid.UUID, reasons: list[str], at: datetime) -> None:
        await self.enter_many([(key, owner_id, reasons)], at)

    async def enter_many(
        self, entries: Sequence[tuple[str, uuid.UUID, list[str]]], at: datetime
    ) -> None:
        """(segment key, owner, reasons): new members enter at `at`; members keep their entry
        time and take the new reasons."""
        if not entries:
            return
        statement = insert(SegmentMembership)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["segment_key", "owner_id"],
                set_={"reasons": statement.excluded.reasons},
            ),
            [
                {"segment_key": key, "owner_id": owner, "reasons": reasons, "entered_at": at}
                for key, owner, reasons in entries
            ],
        )

    async def leave(self, key: str, owner_ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            delete(SegmentMembership).where(
                SegmentMembership.segment_key == key, SegmentMembership.owner_id.in_(owner_ids)
            )
        )

    async def owners_with_facts(
        self, owner_ids: Sequence[uuid.UUID]
    ) -> list[tuple[Owner, OwnerFacts]]:
        rows = await self.session.execute(
            select(Owner, OwnerFacts)
            .join(OwnerFacts, OwnerFacts.owner_id == Owner.id)
            .where(Owner.id.in_(owner_ids))
        )
        return [(owner, facts) for owner, facts in rows]

    async def events_of_owners(
        self, owner_ids: Sequence[uuid.UUID], since: datetime
    ) -> Sequence[InteractionEvent]:
        rows = await self.session.scalars(
            select(InteractionEvent).where(
                InteractionEvent.owner_id.in_(owner_ids), InteractionEvent.occurred_at >= since
            )
        )
        return rows.all()

    async def members_page(
        self, key: str, caller: Caller, page: PageParams
    ) -> tuple[Sequence[SegmentMembership], int]:
        query = (
            select(SegmentMembership)
            .join(Owner, Owner.id == SegmentMembership.owner_id)
            .where(SegmentMembership.segment_key == key, owner_scope(caller))
        )
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(SegmentMembership.entered_at, SegmentMembership.owner_id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all(), total or 0

    async def member_counts(self, caller: Caller) -> dict[str, int]:
        rows = await self.session.execute(
            select(SegmentMembership.segment_key, func.count())
            .join(Owner, Owner.id == SegmentMembership.owner_id)
            .where(owner_scope(caller))
            .group_by(SegmentMembership.segment_key)
        )
        return {key: count for key, count in rows}

    async def due_for_recompute(self, now: datetime, limit: int) -> Sequence[Segment]:
        rows = await self.session.scalars(
            select(Segment)
            .where(Segment.recompute_at <= now)
            .order_by(Segment.recompute_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return rows.all()
