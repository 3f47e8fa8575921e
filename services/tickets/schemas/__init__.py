"""Tickets' API models: `XCreate` in, `XRead` out. Bodies refuse unknown fields.

Cases are here; configuration, reports and the privacy export have their own modules.
"""

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.tickets.domain import (
    Channel,
    PauseReason,
    Priority,
    TicketKind,
    TicketStatus,
    Visibility,
)
from services.tickets.domain.sla import SlaClockKind
from shared.pagination import Page

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Watcher = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SourceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


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


TicketPage = Page[TicketRead]
OwnerTicketPage = Page[OwnerTicketRead]
CommentPage = Page[CommentRead]
