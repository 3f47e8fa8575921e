"""Pure analytics rules: reporting periods, and the integrity signals that say a dealer
coaches its owners' answers or fills them in itself."""

import math
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from services.feedback.domain import SurveyKind


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, from Monday
    MONTH = "month"


# A dashboard series longer than this is refused (a year of days fits).
MAX_PERIODS = 400
# The longest window a figure covers; the same length before it must exist for a baseline,
# and a period after it for the series' ends.
MAX_WINDOW = timedelta(days=3660)
LAST_DAY = date.max - timedelta(days=366)


def window_problem(first: date, last: date) -> tuple[str, str] | None:
    """What is wrong with a first..last window: (the query field, why), or None."""
    if first > last:
        return "query.start", "must not be after end"
    if last - first > MAX_WINDOW:
        return "query.start", f"a window spans at most {MAX_WINDOW.days} days"
    if first - date.min <= MAX_WINDOW:
        return "query.start", "too early for a baseline window before it"
    if last > LAST_DAY:
        return "query.end", f"must be on or before {LAST_DAY.isoformat()}"
    return None


@dataclass(frozen=True)
class Tile:
    """The periods of one kind whose starts lie in first_start..last_start."""

    period: Period
    first_start: date
    last_start: date


def period_start(period: Period, day: date) -> date:
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def next_period(period: Period, start: date) -> date:
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_starts(period: Period, first: date, last: date) -> list[date]:
    """The starts of every period that overlaps first..last (inclusive)."""
    starts, current = [], period_start(period, first)
    while current <= last:
        starts.append(current)
        current = next_period(period, current)
    return starts


# A window's days, covered by the coarsest whole periods first.
TILING = (Period.MONTH, Period.WEEK, Period.DAY)


def tiles(first: date, last: date, periods: tuple[Period, ...] = TILING) -> list[Tile]:
    """Covers first..last (inclusive) exactly with whole months, then whole weeks, then
    days, so that totals over the window read the fewest counted rows."""
    if first > last:
        return []
    period, finer = periods[0], periods[1:]
    if period is Period.DAY or not finer:
        return [Tile(period, first, last)]
    start = period_start(period, first)
    if start != first:
        start = next_period(period, start)
    after = period_start(period, last + timedelta(days=1))  # where whole periods stop
    if start >= after:
        return tiles(first, last, finer)
    whole = Tile(period, start, period_start(period, after - timedelta(days=1)))
    return [*tiles(first, start - timedelta(days=1), finer), whole, *tiles(after, last, finer)]


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


# Survey integrity: signals that a dealer coaches or fills in its own answers

# The highest answer of each scale: a sudden rush to it is what coaching looks like.
TOP_BOX: dict[SurveyKind, int] = {SurveyKind.NPS: 10, SurveyKind.CSAT: 5}
JUMP_MIN_ANSWERS = 20  # in each window, or a jump is noise
JUMP_MIN_RISE = 0.15  # the top-box share rose by at least this much...
JUMP_MIN_Z = 3.0  # ...and a two-proportion z-test says it is no accident
NETWORK_MIN_ANSWERS = 3
NETWORK_MIN_SHARE = 0.05
# One network (or device) answering for this many different owners of a dealer is a showroom.
SHARED_BY_OWNERS = 3


class CoachingFlag(StrEnum):
    TOP_BOX_JUMP = "top_box_jump"
    DEALER_NETWORK = "dealer_network"
    SHARED_NETWORK = "shared_network"


def is_top_box(kind: SurveyKind, score: int | None) -> bool:
    return score is not None and score == TOP_BOX.get(kind)


def top_box_jump_z(top: int, answers: int, baseline_top: int, baseline_answers: int) -> float:
    """The z statistic of the rise in top-box share from the baseline window (0 if none)."""
    if answers == 0 or baseline_answers == 0:
        return 0.0
    share, baseline = top / answers, baseline_top / baseline_answers
    pooled = (top + baseline_top) / (answers + baseline_answers)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / answers + 1 / baseline_answers))
    return (share - baseline) / spread if spread else 0.0


@dataclass(frozen=True)
class IntegrityCounts:
    answers: int
    top_box: int
    baseline_answers: int
    baseline_top_box: int
    from_dealer_network: int
    from_shared_network: int


def coaching_flags(counts: IntegrityCounts) -> list[CoachingFlag]:
    flags = []
    enough = min(counts.answers, counts.baseline_answers) >= JUMP_MIN_ANSWERS
    rise = (counts.top_box / counts.answers if counts.answers else 0.0) - (
        counts.baseline_top_box / counts.baseline_answers if counts.baseline_answers else 0.0
    )
    z = top_box_jump_z(
        counts.top_box, counts.answers, counts.baseline_top_box, counts.baseline_answers
    )
    if enough and rise >= JUMP_MIN_RISE and z >= JUMP_MIN_Z:
        flags.append(CoachingFlag.TOP_BOX_JUMP)
    for flag, number in (
        (CoachingFlag.DEALER_NETWORK, counts.from_dealer_network),
        (CoachingFlag.SHARED_NETWORK, counts.from_shared_network),
    ):
        if number >= NETWORK_MIN_ANSWERS and number >= NETWORK_MIN_SHARE * counts.answers:
            flags.append(flag)
    return flags


@dataclass(frozen=True)
class Slice:
    """Which answers a figure counts: a kind of survey over whole days, narrowed by any of
    dealer, touchpoint, lifecycle stage and model."""

    kind: SurveyKind
    first: date
    last: date
    dealer_id: uuid.UUID | None = None
    touchpoint: str | None = None
    lifecycle_stage: str | None = None
    model: str | None = None

    def filters(self) -> dict[str, object]:
        names = ("dealer_id", "touchpoint", "lifecycle_stage", "model")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def baseline(self) -> "Slice":
        """The same slice over the equally long window just before it."""
        length = self.last - self.first + timedelta(days=1)
        return replace(self, first=self.first - length, last=self.first - timedelta(days=1))
