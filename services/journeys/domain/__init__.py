"""Journeys' pure rules. This module: the vocabulary (categories, channels, statuses) and
conditions; `definitions` what a journey is and when it is valid; `runtime` how owners
enter and move; `contact` the templates and guard rails of every message."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.errors import Conflict

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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# Conditions (audience, branches, trigger filters)


class ConsentRef(Strict):
    purpose: str
    channel: str


class Condition(Strict):
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
