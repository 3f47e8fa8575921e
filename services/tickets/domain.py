"""Pure ticket rules: kinds and statuses, the state machine, routing and SLA arithmetic."""

import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict


class TicketKind(StrEnum):
    COMPLAINT = "complaint"
    INQUIRY = "inquiry"
    ROADSIDE_ASSISTANCE = "roadside_assistance"
    SERVICE_BOOKING = "service_booking"
    TEST_DRIVE = "test_drive"
    LEAD_FOLLOW_UP = "lead_follow_up"
    PROACTIVE_SERVICE = "proactive_service"


# Kinds that are about a time the owner asked for.
KINDS_WITH_SLOT = frozenset({TicketKind.SERVICE_BOOKING, TicketKind.TEST_DRIVE})
# Kinds an owner may open from the app; the rest come from dealers, staff and events.
OWNER_KINDS = frozenset(
    {
        TicketKind.COMPLAINT,
        TicketKind.INQUIRY,
        TicketKind.ROADSIDE_ASSISTANCE,
        TicketKind.SERVICE_BOOKING,
        TicketKind.TEST_DRIVE,
    }
)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    def raised(self) -> "Priority":
        order = list(Priority)
        return order[min(order.index(self) + 1, len(order) - 1)]


class Channel(StrEnum):
    APP = "app"
    WEB = "web"
    PHONE = "phone"
    EMAIL = "email"
    DEALER = "dealer"
    COMMUNITY = "community"
    SURVEY = "survey"
    SYSTEM = "system"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class TicketStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_ON_OWNER = "waiting_on_owner"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset(
    {
        TicketStatus.NEW,
        TicketStatus.ACKNOWLEDGED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.WAITING_ON_OWNER,
    }
)

# What the owner reads in the app, in plain words.
STATUS_LABELS: dict[TicketStatus, dict[str, str]] = {
    TicketStatus.NEW: {"en": "Submitted", "zh": "已提交"},
    TicketStatus.ACKNOWLEDGED: {"en": "Received", "zh": "已受理"},
    TicketStatus.IN_PROGRESS: {"en": "Engineer following up", "zh": "工程师跟进中"},
    TicketStatus.WAITING_ON_OWNER: {"en": "Waiting for your reply", "zh": "等待您的回复"},
    TicketStatus.RESOLVED: {"en": "Resolved", "zh": "已解决"},
    TicketStatus.CLOSED: {"en": "Closed", "zh": "已关闭"},
}

# The work that moves a case on; a reopen (resolved → in_progress) is checked apart.
_FORWARD: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset({TicketStatus.ACKNOWLEDGED}),
    TicketStatus.ACKNOWLEDGED: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_OWNER, TicketStatus.RESOLVED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.WAITING_ON_OWNER, TicketStatus.RESOLVED}),
    TicketStatus.WAITING_ON_OWNER: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}
REOPEN = (TicketStatus.RESOLVED, TicketStatus.IN_PROGRESS)
# An owner may only confirm (close) or reopen a resolved case of theirs.
_OWNER_MOVES = frozenset({(TicketStatus.RESOLVED, TicketStatus.CLOSED), REOPEN})


def legal_transitions(current: TicketStatus) -> frozenset[TicketStatus]:
    extra = {REOPEN[1]} if current is REOPEN[0] else set()
    return _FORWARD[current] | extra


def transition_problem(
    current: TicketStatus,
    target: TicketStatus,
    *,
    by_owner: bool,
    now: datetime,
    reopen_until: datetime | None,
) -> str | None:
    """Why the case cannot move from `current` to `target`, or None when it can."""
    if target not in legal_transitions(current):
        allowed = ", ".join(sorted(legal_transitions(current))) or "none (the case is closed)"
        return f"a {current} case cannot move to {target}; allowed: {allowed}"
    if by_owner and (current, target) not in _OWNER_MOVES:
        return "an owner can only close or reopen a resolved case"
    if (current, target) == REOPEN and reopen_until is not None and now > reopen_until:
        return f"the reopen period ended at {reopen_until.isoformat()}; open a new case instead"
    return None


class PauseReason(StrEnum):
    """Why the SLA clocks stop: the workshop is waiting on someone else."""

    WAITING_ON_OWNER = "waiting_on_owner"
    PARTS_BACK_ORDER = "parts_back_order"
    WARRANTY_APPROVAL = "warranty_approval"
    GOODWILL_APPROVAL = "goodwill_approval"
    VEHICLE_IN_WORKSHOP = "vehicle_in_workshop"


def pause_problem(status: TicketStatus, current: PauseReason | None) -> str | None:
    """A workshop pause is set on a case being worked on (waiting on the owner is a status)."""
    if status not in (TicketStatus.ACKNOWLEDGED, TicketStatus.IN_PROGRESS):
        return f"a {status} case cannot be paused"
    if current is not None:
        return f"the case is already paused ({current})"
    return None


def pause_for_status(status: TicketStatus, current: PauseReason | None) -> PauseReason | None:
    """The pause a status change leaves: waiting on the owner pauses; any move clears it."""
    if status is TicketStatus.WAITING_ON_OWNER:
        return PauseReason.WAITING_ON_OWNER
    if status not in OPEN_STATUSES or current is PauseReason.WAITING_ON_OWNER:
        return None
    return current


# Routing


class DealerStrategy(StrEnum):
    NONE = "none"
    SERVICING_DEALER = "servicing_dealer"
    OWNER_CITY = "owner_city"
    FIXED = "fixed"


@dataclass(frozen=True)
class CaseFacts:
    kind: TicketKind
    category: str | None
    priority: Priority
    channel: Channel
    city: str | None
    servicing_dealer_id: uuid.UUID | None
    # The dealer the case is already at (a lead names its dealer), if any.
    dealer_id: uuid.UUID | None = None


class RuleConditions(BaseModel):
    """All listed conditions must hold; an empty list means any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: list[TicketKind] = []
    categories: list[str] = []
    priorities: list[Priority] = []
    channels: list[Channel] = []
    cities: list[str] = []
    servicing_dealer_ids: list[uuid.UUID] = []
    dealer_ids: list[uuid.UUID] = []

    def matches(self, facts: CaseFacts) -> bool:
        checks = (
            (self.kinds, facts.kind),
            (self.categories, facts.category),
            (self.priorities, facts.priority),
            (self.channels, facts.channel),
            (self.cities, facts.city),
            (self.servicing_dealer_ids, facts.servicing_dealer_id),
            (self.dealer_ids, facts.dealer_id),
        )
        return all(not allowed or value in allowed for allowed, value in checks)


@dataclass(frozen=True)
class RoutingRuleSpec:
    conditions: RuleConditions
    queue: str | None
    dealer_strategy: DealerStrategy
    dealer_id: uuid.UUID | None
    watchers: tuple[str, ...]


@dataclass(frozen=True)
class RoutingDecision:
    queue: str
    dealer_strategy: DealerStrategy
    dealer_id: uuid.UUID | None
    watchers: tuple[str, ...]


DEFAULT_QUEUE = "first_line"


def route(rules: Iterable[RoutingRuleSpec], facts: CaseFacts) -> RoutingDecision:
    """The first matching rule that names a queue decides queue and dealer; every matching
    rule adds its watchers. With no match the case goes to first-line customer service."""
    decided: RoutingRuleSpec | None = None
    watchers: list[str] = []
    for rule in rules:
        if not rule.conditions.matches(facts):
            continue
        watchers.extend(w for w in rule.watchers if w not in watchers)
        if decided is None and rule.queue is not None:
            decided = rule
    if decided is None:
        return RoutingDecision(DEFAULT_QUEUE, DealerStrategy.NONE, None, tuple(watchers))
    return RoutingDecision(
        decided.queue or DEFAULT_QUEUE, decided.dealer_strategy, decided.dealer_id, tuple(watchers)
    )


def policy_rank(
    policy_kind: str | None, policy_priority: str | None, kind: str, priority: str
) -> int | None:
    """How well an SLA policy fits a case (higher is more specific), or None if it does not."""
    if policy_kind not in (None, kind) or policy_priority not in (None, priority):
        return None
    return (2 if policy_kind else 0) + (1 if policy_priority else 0)


# SLA arithmetic


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
