"""SLA arithmetic: which policy fits a case, business hours, and the clocks that run in them."""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def policy_rank(
    policy_kind: str | None, policy_priority: str | None, kind: str, priority: str
) -> int | None:
    """How well an SLA policy fits a case (higher is more specific), or None if it does not."""
    if policy_kind not in (None, kind) or policy_priority not in (None, priority):
        return None
    return (2 if policy_kind else 0) + (1 if policy_priority else 0)


class SlaClockKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_DAYS = 400


def time_zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}"
    return None


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours in a dealer's time zone; SLA time only runs while the dealer is open."""

    time_zone: str
    weekly: dict[str, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        zone = ZoneInfo(self.time_zone)
        return [
            (
                datetime.combine(day, opens, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, closes, tzinfo=zone).astimezone(UTC),
            )
            for opens, closes in self.weekly.get(WEEKDAYS[day.weekday()], ())
        ]

    def _days_from(self, moment: datetime) -> Iterable[date]:
        first = moment.astimezone(ZoneInfo(self.time_zone)).date()
        return (first + timedelta(days=offset) for offset in range(-1, _SEARCH_DAYS))

    def seconds_between(self, start: datetime, end: datetime) -> float:
        total = 0.0
        for day in self._days_from(start):
            for opens, closes in self._intervals(day):
                if opens >= end:
                    return total
                total += max(0.0, (min(closes, end) - max(opens, start)).total_seconds())
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        remaining = seconds
        for day in self._days_from(start):
            for opens, closes in self._intervals(day):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                available = (closes - begin).total_seconds()
                if remaining <= available:
                    return begin + timedelta(seconds=remaining)
                remaining -= available
        raise ValueError("business hours never open")


def business_hours_problem(weekly: dict[str, Sequence[tuple[time, time]]]) -> str | None:
    for day, intervals in weekly.items():
        if day not in WEEKDAYS:
            return f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}"
        ordered = sorted(intervals)
        for opens, closes in ordered:
            if opens >= closes:
                return f"{day}: {opens:%H:%M} must be before {closes:%H:%M}"
        for (_, first_close), (second_open, _) in itertools.pairwise(ordered):
            if second_open < first_close:
                return f"{day}: opening hours overlap"
    if not any(weekly.values()):
        return "at least one day needs opening hours"
    return None


class Calendar:
    """Around the clock: the calendar of a case with no business hours."""

    def seconds_between(self, start: datetime, end: datetime) -> float:
        return max(0.0, (end - start).total_seconds())

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)


ALWAYS_OPEN = Calendar()


@dataclass(frozen=True)
class SlaClock:
    """One SLA target of a case. Time is consumed only while running and the calendar is
    open; `due_at` is when the remaining time runs out (None while paused or stopped)."""

    kind: SlaClockKind
    target_seconds: int
    consumed_seconds: float = 0.0
    running_since: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None

    @classmethod
    def started(cls, kind: SlaClockKind, target_seconds: int, at: datetime) -> "SlaClock":
        return cls(kind=kind, target_seconds=target_seconds, running_since=at)

    def due_at(self, calendar: BusinessHours | Calendar) -> datetime | None:
        if self.running_since is None:
            return None
        remaining = max(0.0, self.target_seconds - self.consumed_seconds)
        return calendar.add(self.running_since, remaining)

    def _consumed_until(self, at: datetime, calendar: BusinessHours | Calendar) -> float:
        if self.running_since is None:
            return self.consumed_seconds
        return self.consumed_seconds + calendar.seconds_between(self.running_since, at)

    def pause(self, at: datetime, calendar: BusinessHours | Calendar) -> "SlaClock":
        if self.running_since is None:
            return self
        return replace(
            self, consumed_seconds=self._consumed_until(at, calendar), running_since=None
        )

    def resume(self, at: datetime) -> "SlaClock":
        if self.running_since is not None or self.stopped_at is not None:
            return self
        return replace(self, running_since=at)

    def stop(self, at: datetime, calendar: BusinessHours | Calendar) -> "SlaClock":
        if self.stopped_at is not None:
            return self
        return replace(self.pause(at, calendar), stopped_at=at)

    def restart(self, at: datetime) -> "SlaClock":
        """A reopened case: the clock runs again with what was left of its target."""
        return replace(self, stopped_at=None, running_since=at)

    def breach(self, at: datetime) -> "SlaClock":
        return replace(self, breached_at=at)

    @property
    def met(self) -> bool | None:
        """Whether the target was met (None while the clock still runs or is paused)."""
        if self.stopped_at is None:
            return None
        return self.breached_at is None and self.consumed_seconds <= self.target_seconds
