"""Analytics queries: counts kept per period and cell, read through the caller's scope.

Every answer and every issued invitation adds to the counts of its day, week and month in
the same transaction (once, just before it commits, for all it counted), so a dashboard
reads a few thousand counted rows instead of aggregating a million answers;
`rollups.rebuild` is the reference they always equal.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Row, Table, and_, delete, func, literal, or_, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.domain import SurveyKind
from services.feedback.domain.analytics import (
    Period,
    Slice,
    Tile,
    is_top_box,
    period_start,
    tiles,
    utc_day,
)
from services.feedback.models import Invitation, Response, ScoreRollup, TopicRollup
from services.feedback.repository import dealer_scope
from shared.auth import Caller, CallerKind
from shared.database import before_commit
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

    def count_invitation(self, invitation: Invitation, kind: str) -> None:
        self._add_scores(Cell.of(invitation, kind), utc_day(invitation.sent_at), invited=1)

    def move_invitation(self, counted: Cell, invitation: Invitation, kind: str) -> None:
        """The sent invitation, counted in `counted`, now belongs in another cell."""
        day = utc_day(invitation.sent_at)
        self._add_scores(counted, day, invited=-1)
        self._add_scores(Cell.of(invitation, kind), day, invited=1)

    def count_answer(self, response: Response) -> None:
        kind = SurveyKind(response.kind)
        day = utc_day(response.submitted_at)
        self._add_scores(
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
            self._add_topics(Cell.of(response, response.kind), day, response)

    def _add_scores(self, cell: Cell, day: date, **counts: int) -> None:
        pending = _pending(self.session, ScoreRollup)
        for values in _cell_values(cell, day):
            totals = pending.setdefault(_key(values), dict.fromkeys(SCORE_COUNTS, 0))
            for name, count in counts.items():
                totals[name] += count

    def _add_topics(self, cell: Cell, day: date, response: Response) -> None:
        pending = _pending(self.session, TopicRollup)
        for values in _cell_values(cell, day):
            for topic in sorted(set(response.topics)):
                key = _key({**values, "band": response.band, "topic": topic})
                pending.setdefault(key, {"mentions": 0})["mentions"] += 1

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
        conditions = [*answered_in(caller, part), Response.comment.is_not(None)]
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


def _pending(session: AsyncSession, rollup: type[ScoreRollup | TopicRollup]) -> dict:
    """The counts this transaction adds to the rollup's cells, written in one statement just
    before it commits: the events of a fetch (and their invitations) share a transaction,
    and many add to the same few cells."""
    name = f"feedback_pending_{rollup.__tablename__}"
    before_commit(session, name, lambda session: _write_counts(session, rollup, name))
    return session.info.setdefault(name, {})


def _key(values: dict[str, Any]) -> tuple:
    return tuple(values.items())


async def _write_counts(
    session: AsyncSession, rollup: type[ScoreRollup | TopicRollup], name: str
) -> None:
    pending = session.info.pop(name)
    # In one order whoever writes: two transactions adding to the same cells never wait
    # on each other in a circle.
    rows = [{**dict(key), **counts} for key, counts in sorted(pending.items(), key=_first)]
    if not rows:
        return
    table, counted = _counted(rollup)
    written = await session.execute(_upsert_counts(rollup), rows)
    if any(row[name] < 0 for row in rows for name in counted):  # a count moved out
        empty = and_(*(table.c[name] == 0 for name in counted))
        ids = [row.id for row in written]
        await session.execute(delete(table).where(table.c.id.in_(ids), empty))


def _first(item: tuple) -> str:
    return repr(item[0])


def _counted(rollup: type[ScoreRollup | TopicRollup]) -> tuple[Table, tuple[str, ...]]:
    return rollup.__table__, SCORE_COUNTS if rollup is ScoreRollup else ("mentions",)


@cache
def _upsert_counts(rollup: type[ScoreRollup | TopicRollup]) -> Insert:
    table, counted = _counted(rollup)
    statement = insert(table)
    return statement.on_conflict_do_update(
        constraint=f"uq_{table.name}_cell",
        set_={name: table.c[name] + statement.excluded[name] for name in counted},
    ).returning(table.c.id)


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


def day_start(day: date, *, after: bool = False) -> datetime:
    """The UTC midnight that starts `day` (or, with `after`, ends it)."""
    return datetime.combine(day + timedelta(days=int(after)), time(), UTC)


def answered_in(caller: Caller, part: Slice) -> list[Any]:
    """The answers of the slice (its kind, days and filters) that the caller may see."""
    return [
        dealer_scope(Response.dealer_id, caller),
        Response.kind == part.kind,
        Response.submitted_at >= day_start(part.first),
        Response.submitted_at < day_start(part.last, after=True),
        *(getattr(Response, name) == value for name, value in part.filters().items()),
    ]
