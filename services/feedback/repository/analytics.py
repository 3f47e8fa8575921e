"""Analytics queries: counts kept per period and cell, read through the caller's scope.

Every answer and every issued invitation adds to the counts of its day, week and month in
the same transaction, so a dashboard reads a few thousand counted rows instead of
aggregating a million answers; `rollups.rebuild` is the reference they always equal.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, and_, case, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.domain import InvitationStatus, SurveyKind
from services.feedback.domain.analytics import (
    SHARED_BY_OWNERS,
    Period,
    Slice,
    Tile,
    is_top_box,
    period_start,
    tiles,
    utc_day,
)
from services.feedback.models import (
    Invitation,
    Response,
    ScoreRollup,
    TopicRollup,
    TouchpointRecord,
)
from services.feedback.repository import dealer_scope
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams

SCORE_COUNTS = (
    "invited",
    "responses",
    "promoters",
    "passives",
    "detractors",
    "top_box",
    "score_sum",
    "from_dealer_network",
)
# A cell's counts, in SCORE_COUNTS order.
Counts = tuple[int, ...]
# The dimensions a figure may be broken down by, as columns of the counted rows.
DIMENSIONS = ("dealer_id", "touchpoint", "lifecycle_stage", "model")


@dataclass(frozen=True)
class Cell:
    """Where an answer or invitation is counted."""

    dealer_id: uuid.UUID | None
    touchpoint: str
    lifecycle_stage: str | None
    model: str | None
    kind: str

    @classmethod
    def of(cls, record: Invitation | Response, kind: str) -> "Cell":
        return cls(record.dealer_id, record.touchpoint, record.lifecycle_stage, record.model, kind)


class AnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Counting, in the transaction of the change

    async def count_invitation(self, invitation: Invitation, kind: str) -> None:
        await self._add_scores(Cell.of(invitation, kind), utc_day(invitation.sent_at), invited=1)

    async def count_answer(self, response: Response) -> None:
        kind = SurveyKind(response.kind)
        day = utc_day(response.submitted_at)
        await self._add_scores(
            Cell.of(response, response.kind),
            day,
            responses=1,
            promoters=int(response.band == "promoter"),
            passives=int(response.band == "passive"),
            detractors=int(response.band == "detractor"),
            top_box=int(is_top_box(kind, response.score)),
            score_sum=response.score or 0,
            from_dealer_network=int(response.from_dealer_network),
        )
        if response.band:
            await self._add_topics(Cell.of(response, response.kind), day, response)

    async def _add_scores(self, cell: Cell, day: date, **counts: int) -> None:
        rows = [
            {**values, **dict.fromkeys(SCORE_COUNTS, 0), **counts}
            for values in _cell_values(cell, day)
        ]
        statement = insert(ScoreRollup).values(rows)
        await self.session.execute(
            statement.on_conflict_do_update(
                constraint="uq_score_rollups_cell",
                set_={
                    name: getattr(ScoreRollup, name) + statement.excluded[name]
                    for name in SCORE_COUNTS
                },
            )
        )

    async def _add_topics(self, cell: Cell, day: date, response: Response) -> None:
        topics = sorted(set(response.topics))
        if not topics:
            return
        rows = [
            {**values, "band": response.band, "topic": topic, "mentions": 1}
            for values in _cell_values(cell, day)
            for topic in topics
        ]
        statement = insert(TopicRollup).values(rows)
        await self.session.execute(
            statement.on_conflict_do_update(
                constraint="uq_topic_rollups_cell",
                set_={"mentions": TopicRollup.mentions + statement.excluded.mentions},
            )
        )

    # Reading

    async def score_rows(
        self, caller: Caller, part: Slice, period: Period, by: str | None
    ) -> list[tuple[Any, date, Counts]]:
        """Summed counts (in `SCORE_COUNTS` order) per group and period start."""
        group = _group(ScoreRollup, by)
        window = [Tile(period, period_start(period, part.first), part.last)]
        statement = (
            select(group, ScoreRollup.period_start, *_score_sums())
            .where(*_rollup_conditions(ScoreRollup, caller, part, window, by))
            .group_by(group, ScoreRollup.period_start)
            .order_by(ScoreRollup.period_start)
        )
        # Plain tuples: reading thousands of rows' columns by name costs more than the query.
        rows = map(tuple, (await self.session.execute(statement)).all())
        return [(row[0], row[1], row[2:]) for row in rows]

    async def score_totals(
        self, caller: Caller, part: Slice, by: str | None
    ) -> list[tuple[Any, Counts]]:
        """Summed counts per group over the slice's exact window (months, weeks, days)."""
        group = _group(ScoreRollup, by)
        window = tiles(part.first, part.last)
        statement = (
            select(group, *_score_sums())
            .where(*_rollup_conditions(ScoreRollup, caller, part, window, by))
            .group_by(group)
        )
        rows = map(tuple, (await self.session.execute(statement)).all())
        return [(row[0], row[1:]) for row in rows]

    async def topic_rows(self, caller: Caller, part: Slice, band: str, limit: int) -> Sequence[Row]:
        mentions = func.sum(TopicRollup.mentions).label("mentions")
        window = tiles(part.first, part.last)
        statement = (
            select(TopicRollup.topic, mentions)
            .where(*_rollup_conditions(TopicRollup, caller, part, window), TopicRollup.band == band)
            .group_by(TopicRollup.topic)
            .order_by(mentions.desc(), TopicRollup.topic)
            .limit(limit)
        )
        return (await self.session.execute(statement)).all()

    async def verbatims(
        self, caller: Caller, part: Slice, page: PageParams, *, band: str | None, topic: str | None
    ) -> tuple[list[Response], int]:
        conditions = [
            dealer_scope(Response.dealer_id, caller),
            Response.kind == part.kind,
            Response.submitted_at >= _day_start(part.first),
            Response.submitted_at < _day_start(part.last, after=True),
            Response.comment.is_not(None),
            *(getattr(Response, name) == value for name, value in part.filters().items()),
        ]
        if band:
            conditions.append(Response.band == band)
        if topic:
            conditions.append(Response.topics.contains([topic]))
        total = await self.session.scalar(select(func.count()).where(*conditions))
        rows = await self.session.scalars(
            select(Response)
            .where(*conditions)
            .order_by(Response.submitted_at.desc(), Response.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return list(rows.all()), total or 0

    # Integrity

    async def shared_network_answers(self, caller: Caller, part: Slice) -> dict[Any, int]:
        """Per dealer: answers sent from a network or a device that answered for at least
        `SHARED_BY_OWNERS` different owners of that dealer in the window (a showroom
        tablet, the dealer's wifi)."""
        window = (
            select(
                Response.dealer_id, Response.owner_id, Response.network_hash, Response.device_hash
            )
            .where(
                dealer_scope(Response.dealer_id, caller),
                Response.kind == part.kind,
                Response.submitted_at >= _day_start(part.first),
                Response.submitted_at < _day_start(part.last, after=True),
                *(getattr(Response, name) == value for name, value in part.filters().items()),
            )
            .cte("answers")
        )

        def crowded(column: str):
            """The (dealer, hash) pairs of one fingerprint seen with enough owners."""
            fingerprint = window.c[column]
            return (
                select(window.c.dealer_id, fingerprint.label("hash"))
                .where(fingerprint.is_not(None))
                .group_by(window.c.dealer_id, fingerprint)
                .having(
                    func.count() >= SHARED_BY_OWNERS,  # cheap: skips most pairs before...
                    func.count(func.distinct(window.c.owner_id)) >= SHARED_BY_OWNERS,  # ...this
                )
                .cte(f"crowded_{column}")
            )

        def seen_in(column: str):
            pairs = crowded(column)
            return exists().where(
                pairs.c.dealer_id == window.c.dealer_id, pairs.c.hash == window.c[column]
            )

        rows = await self.session.execute(
            select(window.c.dealer_id, func.count())
            .where(or_(seen_in("network_hash"), seen_in("device_hash")))
            .group_by(window.c.dealer_id)
        )
        return {dealer_id: number for dealer_id, number in rows}

    async def suppression_counts(
        self,
        caller: Caller,
        first: date,
        last: date,
        touchpoints: Sequence[str],
        dealer_id: uuid.UUID | None = None,
    ) -> Sequence[Row]:
        """Per dealer and reason: touchpoints in the window that earned no invitation."""
        reason = _suppression_reason()
        statement = (
            select(
                TouchpointRecord.dealer_id,
                reason.label("reason"),
                func.count().label("touchpoints"),
            )
            .select_from(TouchpointRecord)
            .outerjoin(Invitation, Invitation.id == TouchpointRecord.invitation_id)
            .where(*_touch_window(caller, first, last, touchpoints, dealer_id), _uninvited())
            .group_by(TouchpointRecord.dealer_id, reason)
        )
        return (await self.session.execute(statement)).all()

    async def touchpoint_totals(
        self,
        caller: Caller,
        first: date,
        last: date,
        touchpoints: Sequence[str],
        dealer_id: uuid.UUID | None = None,
    ) -> dict[Any, int]:
        rows = await self.session.execute(
            select(TouchpointRecord.dealer_id, func.count())
            .where(*_touch_window(caller, first, last, touchpoints, dealer_id))
            .group_by(TouchpointRecord.dealer_id)
        )
        return {dealer_id: number for dealer_id, number in rows}

    async def suppressed_touchpoints(
        self,
        caller: Caller,
        first: date,
        last: date,
        touchpoints: Sequence[str],
        page: PageParams,
        *,
        dealer_id: uuid.UUID | None,
        reason: str | None,
    ) -> tuple[list[Row], int]:
        why = _suppression_reason()
        conditions = [*_touch_window(caller, first, last, touchpoints, dealer_id), _uninvited()]
        if reason:
            conditions.append(why == reason)
        base = (
            select(TouchpointRecord, why.label("reason"))
            .outerjoin(Invitation, Invitation.id == TouchpointRecord.invitation_id)
            .where(*conditions)
        )
        total = await self.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = await self.session.execute(
            base.order_by(TouchpointRecord.occurred_at.desc(), TouchpointRecord.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return list(rows.all()), total or 0


def _cell_values(cell: Cell, day: date) -> list[dict[str, Any]]:
    """The cells a count goes to: its day, week and month, for its dealer and for all."""
    return [
        {
            "grain": period.value,
            "period_start": period_start(period, day),
            "all_dealers": all_dealers,
            "dealer_id": None if all_dealers else cell.dealer_id,
            "touchpoint": cell.touchpoint,
            "lifecycle_stage": cell.lifecycle_stage,
            "model": cell.model,
            "kind": cell.kind,
        }
        for period in Period
        for all_dealers in (False, True)
    ]


def _network_wide(caller: Caller, part: Slice, by: str | None) -> bool:
    """Whether the figure is about all dealers together, so the all-dealer cells answer it
    (not for a dealer, a region, one dealer's figures or figures by dealer)."""
    return (
        caller.kind is CallerKind.STAFF
        and not caller.region
        and part.dealer_id is None
        and by != "dealer_id"
    )


def _group(model: type[ScoreRollup] | type[TopicRollup], by: str | None):
    return (getattr(model, by) if by else literal(None)).label("key")


def _score_sums() -> list[Any]:
    return [func.sum(getattr(ScoreRollup, name)).label(name) for name in SCORE_COUNTS]


def _rollup_conditions(
    model: type[ScoreRollup] | type[TopicRollup],
    caller: Caller,
    part: Slice,
    window: list[Tile],
    by: str | None = None,
) -> list[Any]:
    return [
        dealer_scope(model.dealer_id, caller),
        model.all_dealers == _network_wide(caller, part, by),
        model.kind == part.kind,
        or_(
            *(
                and_(
                    model.grain == tile.period,
                    model.period_start >= tile.first_start,
                    model.period_start <= tile.last_start,
                )
                for tile in window
            )
        ),
        *(getattr(model, name) == value for name, value in part.filters().items()),
    ]


def _day_start(day: date, *, after: bool = False) -> datetime:
    """The UTC midnight that starts `day` (or, with `after`, ends it)."""
    return datetime.combine(day + timedelta(days=int(after)), time(), UTC)


def _suppression_reason():
    """Why a touchpoint earned no invitation: its own outcome, or the invitation's
    suppression (throttled, erased); None when an invitation was (or will be) sent."""
    return case(
        (TouchpointRecord.invitation_id.is_(None), TouchpointRecord.outcome),
        (Invitation.status == InvitationStatus.SUPPRESSED, Invitation.suppressed_reason),
        else_=None,
    )


def _touch_window(
    caller: Caller,
    first: date,
    last: date,
    touchpoints: Sequence[str],
    dealer_id: uuid.UUID | None,
) -> list[Any]:
    conditions = [
        dealer_scope(TouchpointRecord.dealer_id, caller),
        TouchpointRecord.touchpoint.in_(touchpoints),
        TouchpointRecord.occurred_at >= _day_start(first),
        TouchpointRecord.occurred_at < _day_start(last, after=True),
    ]
    if dealer_id:
        conditions.append(TouchpointRecord.dealer_id == dealer_id)
    return conditions


def _uninvited():
    """Touchpoints that got no invitation, or only a suppressed one (needs the join)."""
    return or_(
        TouchpointRecord.invitation_id.is_(None),
        Invitation.status == InvitationStatus.SUPPRESSED,
    )
