"""Journeys' pure rules: what a journey definition is and when it is valid, how conditions
hold for an owner, and the contact guard rails (consent, quiet hours, caps, priority)."""

import hashlib
import re
import string
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.errors import Conflict, FieldError, InvalidInput

KEY_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
STEP_ID_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
# How many steps one instance may take in one pass; a cycle always contains a wait, so a
# pass that reaches this is a definition bug, not a busy owner.
MAX_STEPS_PER_PASS = 100

# The events a trigger, a wait or a goal may name: `<producer>.<entity>.<verb>`.
KNOWN_EVENTS = frozenset(
    {
        "profile.owner.registered",
        "profile.vehicle.registered",
        "profile.service_visit.completed",
        "profile.lifecycle.stage_changed",
        "profile.segment.membership_changed",
        "feedback.invitation.created",
        "feedback.response.submitted",
        "tickets.ticket.created",
        "tickets.ticket.resolved",
        "telematics.trip.completed",
        "telematics.dtc.raised",
        "telematics.quality_alert.raised",
    }
)


class Category(StrEnum):
    SAFETY = "safety"
    RECALL = "recall"
    SERVICE = "service"
    MARKETING = "marketing"

    @property
    def priority(self) -> int:
        """Lower goes first when messages compete for the same caps."""
        return {"safety": 0, "recall": 0, "service": 1, "marketing": 2}[self.value]

    @property
    def consent_purpose(self) -> str:
        return "marketing" if self is Category.MARKETING else "service_messages"


class Channel(StrEnum):
    APP_PUSH = "app_push"
    SMS = "sms"
    EMAIL = "email"


class Language(StrEnum):
    EN = "en"
    ZH = "zh"


class DefinitionStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    # Replaced by a newer active version: takes no one new, its instances run to the end.
    SUPERSEDED = "superseded"
    ARCHIVED = "archived"


_TRANSITIONS = {
    DefinitionStatus.DRAFT: {DefinitionStatus.ACTIVE, DefinitionStatus.ARCHIVED},
    DefinitionStatus.ACTIVE: {DefinitionStatus.PAUSED, DefinitionStatus.ARCHIVED},
    DefinitionStatus.PAUSED: {DefinitionStatus.ACTIVE, DefinitionStatus.ARCHIVED},
    DefinitionStatus.SUPERSEDED: {DefinitionStatus.ARCHIVED},
    DefinitionStatus.ARCHIVED: set(),
}


class IllegalTransition(Conflict):
    code = "illegal_transition"


def check_transition(current: DefinitionStatus, target: DefinitionStatus) -> None:
    if target not in _TRANSITIONS[current]:
        allowed = ", ".join(sorted(_TRANSITIONS[current])) or "nothing"
        raise IllegalTransition(f"a {current} journey cannot become {target}; allowed: {allowed}")


class InstanceStatus(StrEnum):
    ACTIVE = "active"  # due to run its current step at `due_at`
    WAITING = "waiting"  # for an event, until `due_at` (the timeout)
    COMPLETED = "completed"
    EXITED = "exited"
    HELD_OUT = "held_out"  # in the holdout group: counted, never contacted

    @property
    def running(self) -> bool:
        return self in (InstanceStatus.ACTIVE, InstanceStatus.WAITING)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# Conditions (audience, branches, trigger filters)


class ConsentRef(_Strict):
    purpose: str
    channel: str


class Condition(_Strict):
    """Every test given must hold; `all`, `any` and `not` combine conditions."""

    all: list["Condition"] = []
    any: list["Condition"] = []
    not_: "Condition | None" = Field(default=None, alias="not")
    segment: str | None = None
    tag: str | None = None
    language: Language | None = None
    consent: ConsentRef | None = None
    # A test on the trigger's facts (e.g. `stage` equals "delivery").
    field: str | None = None
    equals: str | int | float | bool | None = None
    at_least: float | None = None
    # An event that a wait step was waiting for has arrived.
    received: str | None = None

    @model_validator(mode="after")
    def _field_needs_a_test(self) -> "Condition":
        if self.field and self.equals is None and self.at_least is None:
            raise ValueError("a `field` test needs `equals` or `at_least`")
        return self

    def only_segments(self) -> bool:
        """Whether the condition tests nothing but segment membership (all of them)."""
        tests = self.model_dump(exclude_defaults=True, exclude={"segment", "all"})
        return not tests and all(c.only_segments() for c in self.all)

    def segments(self) -> list[str]:
        """Segments every match must be in (to narrow an audience before testing it)."""
        found = [self.segment] if self.segment else []
        return found + [s for c in self.all for s in c.segments()]


@dataclass
class OwnerFacts:
    segments: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    language: str = "en"
    # (purpose, channel) pairs granted.
    consents: set[tuple[str, str]] = field(default_factory=set)
    withdrawn: set[tuple[str, str]] = field(default_factory=set)
    context: dict[str, Any] = field(default_factory=dict)
    received: set[str] = field(default_factory=set)


def holds(condition: Condition, facts: OwnerFacts) -> bool:
    tests = [
        all(holds(c, facts) for c in condition.all),
        not condition.any or any(holds(c, facts) for c in condition.any),
        condition.not_ is None or not holds(condition.not_, facts),
        condition.segment is None or condition.segment in facts.segments,
        condition.tag is None or condition.tag in facts.tags,
        condition.language is None or condition.language == facts.language,
        condition.consent is None
        or (condition.consent.purpose, condition.consent.channel) in facts.consents,
        condition.received is None or condition.received in facts.received,
        condition.field is None or _field_holds(condition, facts.context.get(condition.field)),
    ]
    return all(tests)


def _field_holds(condition: Condition, value: Any) -> bool:
    if condition.equals is not None and value != condition.equals:
        return False
    if condition.at_least is not None:
        return isinstance(value, int | float) and value >= condition.at_least
    return True


# Triggers


class EventTrigger(_Strict):
    type: Literal["event"]
    event: str
    filter: Condition = Condition()


class SegmentTrigger(_Strict):
    type: Literal["segment_entered"]
    segment: str


class DateTrigger(_Strict):
    """A date relative to a profile fact: the Nth anniversary of delivery (purchase)."""

    type: Literal["date"]
    fact: Literal["purchase_anniversary"] = "purchase_anniversary"
    years: int = Field(default=1, ge=1, le=30)


class AudienceTrigger(_Strict):
    """A one-off run over everyone in the audience, started by staff (an OTA release)."""

    type: Literal["audience"]


class RecallTrigger(_Strict):
    """Entered by a recall import: one run per affected vehicle."""

    type: Literal["recall"]


Trigger = Annotated[
    EventTrigger | SegmentTrigger | DateTrigger | AudienceTrigger | RecallTrigger,
    Field(discriminator="type"),
]


# Steps


class _Step(_Strict):
    id: str = Field(pattern=STEP_ID_PATTERN)
    # The step after this one; none ends the journey (completed).
    next: str | None = None

    def targets(self) -> Iterator[tuple[str, str]]:
        """(field, step id) of every step this one may lead to."""
        if self.next:
            yield "next", self.next

    @property
    def waits(self) -> bool:
        return False


class WaitStep(_Step):
    """Waits a duration, until a moment, or for an event (then `next`) with a timeout
    (then `timeout_next`, or `next` when not given)."""

    type: Literal["wait"]
    hours: float | None = Field(default=None, gt=0, le=24 * 366)
    until: datetime | None = None
    event: str | None = None
    timeout_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    timeout_next: str | None = None

    @model_validator(mode="after")
    def _one_kind_of_wait(self) -> "WaitStep":
        given = [name for name in ("hours", "until", "event") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a wait needs exactly one of `hours`, `until` or `event`")
        if self.event is not None and self.timeout_hours is None:
            raise ValueError("a wait for an event needs `timeout_hours`")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("`until` needs a time zone")
        return self

    def targets(self) -> Iterator[tuple[str, str]]:
        yield from super().targets()
        if self.timeout_next:
            yield "timeout_next", self.timeout_next

    @property
    def waits(self) -> bool:
        return True


class BranchCase(_Strict):
    when: Condition
    next: str


class BranchStep(_Step):
    """The first case whose condition holds wins; otherwise `next` (or the end)."""

    type: Literal["branch"]
    cases: list[BranchCase] = Field(min_length=1, max_length=20)

    def targets(self) -> Iterator[tuple[str, str]]:
        for index, case in enumerate(self.cases):
            yield f"cases.{index}.next", case.next
        yield from super().targets()


class MessageStep(_Step):
    type: Literal["message"]
    template: str = Field(pattern=KEY_PATTERN)
    # The in-app inbox always receives the message; these channels are tried as well.
    channels: list[Channel] = [Channel.APP_PUSH]
    # Defaults to the journey's category.
    category: Category | None = None


class SurveyStep(_Step):
    type: Literal["survey"]
    survey_key: str = Field(min_length=1, max_length=64)
    touchpoint: str = Field(min_length=1, max_length=64)


class TicketStep(_Step):
    type: Literal["ticket"]
    kind: str = Field(min_length=1, max_length=32)
    category: str | None = Field(default=None, max_length=64)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    description: str = Field(min_length=1, max_length=2000)


class PointsStep(_Step):
    type: Literal["points"]
    points: int = Field(gt=0, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)


class CouponStep(_Step):
    type: Literal["coupon"]
    coupon: str = Field(pattern=KEY_PATTERN)
    valid_days: int = Field(default=90, ge=1, le=3650)


class TagStep(_Step):
    type: Literal["tag"]
    tag: str = Field(min_length=1, max_length=64)
    add: bool = True


class WebhookStep(_Step):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)


class ExitStep(_Step):
    type: Literal["exit"]


Step = Annotated[
    WaitStep
    | BranchStep
    | MessageStep
    | SurveyStep
    | TicketStep
    | PointsStep
    | CouponStep
    | TagStep
    | WebhookStep
    | ExitStep,
    Field(discriminator="type"),
]


class Reentry(_Strict):
    """`once`: an owner enters a journey once ever; `after_exit`: again once the previous
    instance finished; `always`: every trigger. `cooldown_hours` spaces entries apart."""

    mode: Literal["once", "after_exit", "always"] = "after_exit"
    cooldown_hours: float = Field(default=0, ge=0, le=24 * 3660)


class Goal(_Strict):
    """A conversion: the goal event for the owner within the window after entering."""

    event: str
    within_hours: float = Field(gt=0, le=24 * 366)


class JourneyBody(_Strict):
    """A journey's definition, as a new version of an existing key is written."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    category: Category
    trigger: Trigger
    audience: Condition = Condition()
    steps: list[Step] = Field(min_length=1, max_length=100)
    # The first step; defaults to the first in the list.
    entry: str | None = None
    reentry: Reentry = Reentry()
    holdout_percent: int = Field(default=0, ge=0, le=50)
    goal: Goal | None = None

    @property
    def entry_step(self) -> str:
        return self.entry or self.steps[0].id

    def step(self, step_id: str) -> _Step:
        return next(step for step in self.steps if step.id == step_id)

    def templates(self) -> Iterator[tuple[str, str]]:
        for index, step in enumerate(self.steps):
            if isinstance(step, MessageStep):
                yield f"steps.{index}.template", step.template


class JourneySpec(JourneyBody):
    key: str = Field(pattern=KEY_PATTERN)


def validate_spec(spec: JourneySpec, *, prefix: str = "body") -> None:
    """Raises InvalidInput naming every broken field: unknown events or steps, unreachable
    steps, and cycles that could spin without ever waiting."""
    errors = list(_event_errors(spec)) + list(_graph_errors(spec))
    if errors:
        errors = [FieldError(field=f"{prefix}.{e.field}", message=e.message) for e in errors]
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _event_errors(spec: JourneySpec) -> Iterator[FieldError]:
    named: list[tuple[str, str | None]] = [
        ("trigger.event", getattr(spec.trigger, "event", None)),
        ("goal.event", spec.goal.event if spec.goal else None),
    ]
    named += [
        (f"steps.{i}.event", s.event) for i, s in enumerate(spec.steps) if isinstance(s, WaitStep)
    ]
    for name, event in named:
        if event is not None and event not in KNOWN_EVENTS:
            yield FieldError(field=name, message=f"unknown event {event!r}")


def _graph_errors(spec: JourneySpec) -> Iterator[FieldError]:
    index_of: dict[str, int] = {}
    for index, step in enumerate(spec.steps):
        if step.id in index_of:
            yield FieldError(field=f"steps.{index}.id", message=f"duplicate step id {step.id!r}")
        index_of.setdefault(step.id, index)
    if spec.entry_step not in index_of:
        yield FieldError(field="entry", message=f"no step {spec.entry_step!r}")
        return
    broken = False
    for index, step in enumerate(spec.steps):
        for name, target in step.targets():
            if target not in index_of:
                broken = True
                yield FieldError(field=f"steps.{index}.{name}", message=f"no step {target!r}")
    if broken:
        return
    edges = {step.id: [target for _, target in step.targets()] for step in spec.steps}
    reachable = _reachable(spec.entry_step, edges)
    for index, step in enumerate(spec.steps):
        if step.id not in reachable:
            yield FieldError(field=f"steps.{index}", message=f"step {step.id!r} is unreachable")
    waits = {step.id for step in spec.steps if step.waits}
    for step_id in _cycle_without_wait(edges, waits):
        yield FieldError(
            field=f"steps.{index_of[step_id]}",
            message=f"step {step_id!r} is on a cycle without a wait",
        )


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for target in edges[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _cycle_without_wait(edges: dict[str, list[str]], waits: set[str]) -> list[str]:
    """Steps on a cycle of the graph with wait steps removed (such a cycle never pauses)."""
    graph = {node: [t for t in targets if t not in waits] for node, targets in edges.items()}
    graph = {node: targets for node, targets in graph.items() if node not in waits}
    on_cycle: list[str] = []
    for node in graph:
        if node in _reachable_from_successors(node, graph):
            on_cycle.append(node)
    return on_cycle


def _reachable_from_successors(node: str, graph: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(graph[node])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(graph.get(current, []))
    return seen


# Entry


def in_holdout(journey_key: str, run_key: str, owner_id: uuid.UUID, percent: int) -> bool:
    """A stable draw: the same owner in the same run always lands on the same side."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{journey_key}:{run_key}:{owner_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def reentry_allows(reentry: "Reentry", latest: tuple[str, datetime] | None, now: datetime) -> bool:
    """Whether an owner whose latest instance is `latest` (status, entered) may enter again."""
    if latest is None:
        return True
    status, entered_at = latest
    if reentry.mode == "once":
        return False
    if reentry.mode == "after_exit" and InstanceStatus(status).running:
        return False
    return entered_at <= now - timedelta(hours=reentry.cooldown_hours)


def event_concerns(waiting: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether an awaited event is about what the instance waits on: the same vehicle, and
    for a recall a visit that carried the recall's code."""
    vehicle = waiting.get("vehicle_id")
    if vehicle and event.get("vehicle_id") and str(event["vehicle_id"]) != str(vehicle):
        return False
    code = waiting.get("recall_code")
    return not code or code in event.get("recall_codes", [])


def step_request_id(instance_id: uuid.UUID, step_id: str, visit: int) -> uuid.UUID:
    """The id of one step's effect: the same on every retry, so it is applied once."""
    return uuid.uuid5(instance_id, f"{step_id}:{visit}")


# Templates


class TemplateVariant(_Strict):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)


def placeholders(text: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name]
    except ValueError as error:
        raise ValueError(f"malformed placeholder: {error}") from error


def render(text: str, values: dict[str, Any]) -> str:
    """Fills `{name}` placeholders; a fact the owner does not have renders as empty."""
    return string.Formatter().vformat(text, (), _Blank(values))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def choose_language(available: Iterable[str], preferred: str) -> str:
    available = list(available)
    if preferred in available:
        return preferred
    return "en" if "en" in available else available[0]


# Guard rails


class CapRule(_Strict):
    """At most `limit` messages of these categories per scope and channel in the period."""

    scope: Literal["owner", "vehicle", "household"]
    channel: Channel | Literal["any"] = "any"
    categories: list[Category] = [Category.MARKETING]
    period_hours: int = Field(ge=1, le=24 * 366)
    limit: int = Field(ge=0, le=1000)


class ContactPolicy(_Strict):
    """Configuration as data: the caps, and the quiet hours owners get unless they set theirs."""

    caps: list[CapRule] = [
        CapRule(scope="owner", channel="any", period_hours=24 * 7, limit=3),
        CapRule(scope="household", channel="any", period_hours=24 * 7, limit=5),
        CapRule(scope="vehicle", channel="any", period_hours=24, limit=2),
        CapRule(
            scope="owner",
            channel="any",
            categories=[Category.SERVICE],
            period_hours=24,
            limit=3,
        ),
    ]
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    timezone: str = "Asia/Shanghai"


def quiet_until(
    now: datetime, *, start: time, end: time, timezone: str = "Asia/Shanghai"
) -> datetime | None:
    """The end of the quiet hours `now` falls in (UTC), or None outside them."""
    if start == end:
        return None
    local = now.astimezone(ZoneInfo(timezone))
    clock = local.time().replace(tzinfo=None)
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if overnight and clock >= start else local.date()
    ends = datetime.combine(end_day, end, tzinfo=local.tzinfo)
    return ends.astimezone(UTC)


class Reason(StrEnum):
    """Why a step did what it did, in the decision log."""

    SENT = "sent"
    CONSENT = "consent"
    CAP_OWNER = "cap_owner"
    CAP_VEHICLE = "cap_vehicle"
    CAP_HOUSEHOLD = "cap_household"
    QUIET_HOURS = "quiet_hours"
    MOVING = "moving_vehicle"
    HOLDOUT = "holdout"
    ERASED = "erased"


def channels_with_consent(
    category: Category, channels: Iterable[Channel], facts: OwnerFacts
) -> list[Channel]:
    """Marketing needs the channel's marketing consent; service, recall and safety notices are
    sent unless the owner withdrew service messages on that channel."""
    if category is Category.MARKETING:
        return [c for c in channels if ("marketing", c.value) in facts.consents]
    return [c for c in channels if ("service_messages", c.value) not in facts.withdrawn]


def rule_applies(rule: CapRule, category: Category, channel: str) -> bool:
    return category in rule.categories and rule.channel in ("any", channel)


def cap_reason(scope: str) -> Reason:
    return {"owner": Reason.CAP_OWNER, "vehicle": Reason.CAP_VEHICLE}.get(
        scope, Reason.CAP_HOUSEHOLD
    )


_SLUG = re.compile(r"[^a-z0-9_]+")


def slug(text: str) -> str:
    return _SLUG.sub("_", text.lower()).strip("_")[:60] or "item"
