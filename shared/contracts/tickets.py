"""Events published by the tickets service on `cem.tickets.>`."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.contracts.privacy import (
    ErasureCompleted,
    OwnerDataExported,
    erasure_completed_type,
    owner_data_exported_type,
)
from shared.messaging.envelope import Event, EventType


class StatusLabel(BaseModel):
    """The owner-visible wording of a status, in each language the app speaks."""

    en: str
    zh: str


class TicketCreated(Event):
    event_type = EventType("tickets", "ticket", "created")

    ticket_id: uuid.UUID
    number: int
    kind: str
    category: str | None = None
    priority: str
    status: str
    channel: str
    owner_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    queue: str
    watchers: list[str] = []
    source_type: str | None = None
    source_id: str | None = None
    # Added: what the source said about itself, and the case this one follows up.
    source_context: dict = {}
    related_ticket_id: uuid.UUID | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    created_at: datetime


class TicketStatusChanged(Event):
    event_type = EventType("tickets", "ticket", "status_changed")

    ticket_id: uuid.UUID
    number: int
    kind: str
    owner_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    previous_status: str
    status: str
    status_label: StatusLabel
    reopened: bool = False
    reason: str | None = None
    changed_by: str
    changed_at: datetime


class TicketSlaBreached(Event):
    """A first-response or resolution target passed; the case was escalated."""

    event_type = EventType("tickets", "ticket", "sla_breached")

    ticket_id: uuid.UUID
    number: int
    kind: str
    clock: str
    due_at: datetime
    breached_at: datetime
    previous_priority: str
    priority: str
    escalation_level: int
    queue: str
    owner_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    remind: list[str] = []


class TicketReassigned(Event):
    """A case moved to another queue or agent (the new owner of the work is told)."""

    event_type = EventType("tickets", "ticket", "reassigned")

    ticket_id: uuid.UUID
    number: int
    kind: str
    owner_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    previous_queue: str
    queue: str
    previous_assignee: str | None = None
    assignee: str | None = None
    reason: str | None = None
    reassigned_by: str
    reassigned_at: datetime


class TicketResolved(Event):
    """The closed loop: feedback answers this with a follow-up survey to the owner."""

    event_type = EventType("tickets", "ticket", "resolved")

    ticket_id: uuid.UUID
    number: int
    kind: str
    category: str | None = None
    owner_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    channel: str
    source_type: str | None = None
    source_id: str | None = None
    resolution: str | None = None
    reopen_until: datetime
    resolved_at: datetime


class TicketsErasureCompleted(ErasureCompleted):
    event_type = erasure_completed_type("tickets")


class TicketsOwnerDataExported(OwnerDataExported):
    event_type = owner_data_exported_type("tickets")
