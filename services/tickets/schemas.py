"""Tickets' API models: `XCreate` in, `XRead` out. Bodies refuse unknown fields."""

import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    model_validator,
)

from services.tickets.domain import (
    Channel,
    DealerStrategy,
    PauseReason,
    Priority,
    RuleConditions,
    SlaClockKind,
    TicketKind,
    TicketStatus,
    Visibility,
    business_hours_problem,
    time_zone_problem,
)
from shared.pagination import Page

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Watcher = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SourceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Minutes = Annotated[int, Field(ge=1, le=366 * 24 * 60)]


def _known_time_zone(name: str) -> str:
    if problem := time_zone_problem(name):
        raise ValueError(problem)
    return name


TimeZone = Annotated[str, AfterValidator(_known_time_zone)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StatusLabelRead(BaseModel):
    en: str
    zh: str


# Cases


class SourceRef(Body):
    """What opened the case elsewhere; the same source never opens two cases."""

    type: Key
    id: SourceId


class TicketCreate(Body):
    kind: TicketKind
    subject: Name
    description: Text
    category: Key | None = None
    priority: Priority = Priority.NORMAL
    channel: Channel | None = None
    owner_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    requested_slot: datetime | None = None
    source: SourceRef | None = None


class SlaClockRead(BaseModel):
    kind: SlaClockKind
    target_minutes: float
    due_at: datetime | None
    paused: bool
    stopped_at: datetime | None
    breached_at: datetime | None
    met: bool | None


class OwnerTicketRead(Read):
    """What an owner sees of their case: no queue, watchers, SLA or internal state."""

    id: uuid.UUID
    number: int
    kind: TicketKind
    status: TicketStatus
    status_label: StatusLabelRead
    category: str | None
    subject: str
    description: str
    vehicle_id: uuid.UUID | None
    dealer_id: uuid.UUID | None
    requested_slot: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    reopen_until: datetime | None


class FaultRead(BaseModel):
    code: str
    component: str | None
    mileage_km: float | None
    raised_at: datetime


class TicketRead(OwnerTicketRead):
    priority: Priority
    channel: Channel
    owner_id: uuid.UUID | None
    queue: str
    assignee: str | None
    pause_reason: PauseReason | None
    escalation_level: int
    reopen_count: int
    source_type: str | None
    source_id: str | None
    source_context: dict
    # An open service booking shows its vehicle's active fault codes, so parts can be ready.
    vehicle_faults: list[FaultRead] = []
    related_ticket_id: uuid.UUID | None
    watchers: list[str]
    sla: list[SlaClockRead]
    first_responded_at: datetime | None
    closed_at: datetime | None


class TransitionCreate(Body):
    to: TicketStatus
    reason: Reason | None = None


class PauseCreate(Body):
    reason: PauseReason
    note: Reason | None = None


class AssignmentCreate(Body):
    """Moves a case to another queue and/or agent; `assignee: null` unassigns it."""

    queue: Key | None = None
    assignee: Watcher | None = None
    reason: Reason | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.queue is None and "assignee" not in self.model_fields_set:
            raise ValueError("give a queue, an assignee (null to unassign), or both")
        return self


class WatcherCreate(Body):
    watcher: Watcher


class TimelineEntryRead(BaseModel):
    action: str
    actor_kind: str
    actor: str | None
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    status_label: StatusLabelRead | None
    detail: str | None
    at: datetime


class AttachmentRef(Body):
    """A file kept elsewhere (object storage, DMS); tickets stores only the reference."""

    name: Name
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S{1,2000}$")]
    content_type: Annotated[str, StringConstraints(pattern=r"^[\w.+-]+/[\w.+-]+$")] | None = None


class CommentCreate(Body):
    body: Text
    visibility: Visibility = Visibility.PUBLIC
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=20)


class CommentRead(Read):
    id: uuid.UUID
    author_kind: str
    author: str
    visibility: Visibility
    body: str
    attachments: list[AttachmentRef]
    created_at: datetime


# Configuration


Members = Annotated[list[Watcher], Field(max_length=200)]


class QueueUpdate(Body):
    name: Name
    manager: Watcher | None = None
    # The agents who work the queue; when set, a case is assigned only to one of them.
    members: Members = []


class QueueCreate(QueueUpdate):
    key: Key


class QueueRead(Read):
    key: str
    name: str
    manager: str | None
    members: list[str]
    created_at: datetime


class RoutingRuleCreate(Body):
    name: Name
    position: int = Field(ge=0, le=100_000)
    enabled: bool = True
    conditions: RuleConditions = RuleConditions()
    queue: Key | None = None
    dealer_strategy: DealerStrategy = DealerStrategy.NONE
    dealer_id: uuid.UUID | None = None
    watchers: list[Watcher] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.dealer_strategy is DealerStrategy.FIXED) != (self.dealer_id is not None):
            raise ValueError("dealer_id is required with, and only with, dealer_strategy 'fixed'")
        if self.queue is None and not self.watchers:
            raise ValueError("a rule must set a queue or add watchers")
        return self


class RoutingRuleRead(Read):
    id: uuid.UUID
    name: str
    position: int
    enabled: bool
    conditions: RuleConditions
    queue: str | None
    dealer_strategy: DealerStrategy
    dealer_id: uuid.UUID | None
    watchers: list[str]
    created_at: datetime
    updated_at: datetime


class SlaPolicyCreate(Body):
    name: Name
    kind: TicketKind | None = None
    priority: Priority | None = None
    first_response_minutes: Minutes
    resolution_minutes: Minutes
    business_hours: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.resolution_minutes < self.first_response_minutes:
            raise ValueError("resolution_minutes cannot be shorter than first_response_minutes")
        return self


class SlaPolicyRead(Read):
    id: uuid.UUID
    name: str
    kind: TicketKind | None
    priority: Priority | None
    first_response_minutes: int
    resolution_minutes: int
    business_hours: bool
    created_at: datetime
    updated_at: datetime


OpeningHours = tuple[time, time]


def _valid_week(weekly: dict[str, list[OpeningHours]]) -> dict[str, list[OpeningHours]]:
    if problem := business_hours_problem(weekly):
        raise ValueError(problem)
    return weekly


class DealerSettingsPut(Body):
    time_zone: TimeZone
    weekly_hours: Annotated[dict[str, list[OpeningHours]], AfterValidator(_valid_week)]
    holidays: list[date] = Field(default_factory=list, max_length=400)
    manager: Watcher | None = None


class DealerSettingsRead(DealerSettingsPut):
    model_config = ConfigDict(from_attributes=True)

    dealer_id: uuid.UUID
    updated_at: datetime


# Reports


class ReportGroup(StrEnum):
    DEALER = "dealer"
    QUEUE = "queue"
    KIND = "kind"


class ReportPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Compliance(BaseModel):
    """Targets met and missed; clocks still running count for neither."""

    met: int = 0
    breached: int = 0

    @computed_field
    @property
    def rate(self) -> float | None:
        decided = self.met + self.breached
        return round(self.met / decided, 4) if decided else None


class ReportRow(BaseModel):
    """Cases opened in one period (for `totals`, the whole range) in one group."""

    group: str | None
    period_start: date | None
    opened: int = 0
    resolved: int = 0
    backlog: int = 0
    mean_hours_to_resolve: float | None = None
    reopened: int = 0
    reopen_rate: float | None = None
    first_response: Compliance = Compliance()
    resolution: Compliance = Compliance()
    paused_hours: dict[PauseReason, float] = {}


class SlaReport(BaseModel):
    group_by: ReportGroup
    period: ReportPeriod
    time_zone: str
    since: datetime
    until: datetime
    rows: list[ReportRow]
    totals: ReportRow


# Privacy


class OwnerProfileExport(Read):
    """What tickets learnt about the owner from profile's events (to route their cases)."""

    city: str | None
    preferred_language: str
    servicing_dealer_id: uuid.UUID | None


class VehicleExport(Read):
    id: uuid.UUID
    vin: str
    model: str
    servicing_dealer_id: uuid.UUID | None


class CaseExport(BaseModel):
    case: TicketRead | OwnerTicketRead
    timeline: list[TimelineEntryRead]
    comments: list[CommentRead]


class OwnerExport(BaseModel):
    """Everything tickets holds about one owner; after erasure only when it was erased."""

    owner_id: uuid.UUID
    generated_at: datetime
    erased_at: datetime | None
    profile: OwnerProfileExport | None
    vehicles: list[VehicleExport]
    cases: list[CaseExport]


TicketPage = Page[TicketRead]
OwnerTicketPage = Page[OwnerTicketRead]
CommentPage = Page[CommentRead]
QueuePage = Page[QueueRead]
RoutingRulePage = Page[RoutingRuleRead]
SlaPolicyPage = Page[SlaPolicyRead]
