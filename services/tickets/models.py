"""Tickets' tables: cases and their history, configuration as data, and the local
projections of profile's dealers, owners and vehicles (learnt from events)."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import add_messaging_tables


def utc_now() -> datetime:
    return datetime.now(UTC)


def _timestamp(**kwargs) -> Field:
    return Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), **kwargs))


def _moment(**kwargs) -> Field:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), **kwargs))


def _json(default_factory=list) -> Field:
    return Field(default_factory=default_factory, sa_column=Column(JSONB, nullable=False))


class TicketsModel(SQLModel, registry=registry()):
    """Base of tickets' models; its own registry keeps its metadata apart from others'."""


metadata = TicketsModel.metadata
add_messaging_tables(metadata)


class Ticket(TicketsModel, table=True):
    __tablename__ = "tickets"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), unique=True, nullable=False)
    )
    kind: str = Field(max_length=32, index=True)
    status: str = Field(max_length=32, index=True)
    priority: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    category: str | None = Field(default=None, max_length=64)
    subject: str = Field(max_length=200)
    description: str = Field(max_length=10_000)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    vehicle_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = Field(default=None, index=True)
    region: str | None = Field(default=None, max_length=100)
    queue: str = Field(max_length=64, index=True)
    assignee: str | None = Field(default=None, max_length=200)
    requested_slot: datetime | None = _moment()
    pause_reason: str | None = Field(default=None, max_length=32)
    escalation_level: int = 0
    reopen_count: int = 0
    source_type: str | None = Field(default=None, max_length=64)
    source_id: str | None = Field(default=None, max_length=128)
    related_ticket_id: uuid.UUID | None = None
    # What the source said about itself (a lead's model, a campaign's journey and alert).
    source_context: dict = _json(dict)
    created_by: str = Field(max_length=200)
    created_at: datetime = _timestamp(nullable=False, index=True)
    updated_at: datetime = _timestamp(nullable=False)
    first_responded_at: datetime | None = _moment()
    resolved_at: datetime | None = _moment()
    reopen_until: datetime | None = _moment()
    closed_at: datetime | None = _moment()

    # The same source event never opens two cases.
    __table_args__ = (UniqueConstraint("source_type", "source_id"),)


class TicketEntry(TicketsModel, table=True):
    """One line of a case's history: who did what, when and why."""

    __tablename__ = "ticket_entries"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    action: str = Field(max_length=32)
    actor_kind: str = Field(max_length=16)
    actor: str = Field(max_length=200)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    detail: str | None = Field(default=None, max_length=2000)
    public: bool = False
    at: datetime = _timestamp(nullable=False)


class TicketComment(TicketsModel, table=True):
    __tablename__ = "ticket_comments"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True)
    author_kind: str = Field(max_length=16)
    author: str = Field(max_length=200)
    visibility: str = Field(max_length=16)
    body: str = Field(max_length=10_000)
    attachments: list[dict] = _json()
    created_at: datetime = _timestamp(nullable=False)


class TicketLink(TicketsModel, table=True):
    """An event that acted on an existing case (a detractor answer that reopened it); its
    key makes that event act once, however often it is delivered or republished."""

    __tablename__ = "ticket_links"

    source_type: str = Field(max_length=64, primary_key=True)
    source_id: str = Field(max_length=128, primary_key=True)
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True)
    relation: str = Field(max_length=32)
    at: datetime = _timestamp(nullable=False)


class ErasedOwner(TicketsModel, table=True):
    """An owner whose personal data was erased: late events about them are ignored."""

    __tablename__ = "erased_owners"

    owner_id: uuid.UUID = Field(primary_key=True)
    request_id: uuid.UUID
    erased_at: datetime = _timestamp(nullable=False)


class TicketWatcher(TicketsModel, table=True):
    __tablename__ = "ticket_watchers"

    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", primary_key=True)
    watcher: str = Field(max_length=200, primary_key=True)
    reason: str = Field(max_length=64)
    added_at: datetime = _timestamp(nullable=False)


class SlaClockRow(TicketsModel, table=True):
    """A case's SLA clock; its `due_at` is the durable timer the SLA worker claims."""

    __tablename__ = "sla_clocks"

    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", primary_key=True)
    kind: str = Field(max_length=32, primary_key=True)
    target_seconds: int
    consumed_seconds: float = 0.0
    business_hours_dealer_id: uuid.UUID | None = None
    running_since: datetime | None = _moment()
    due_at: datetime | None = _moment()
    stopped_at: datetime | None = _moment()
    breached_at: datetime | None = _moment()

    __table_args__ = (
        Index("ix_sla_clocks_armed", "due_at", postgresql_where=text("breached_at IS NULL")),
    )


class TicketPause(TicketsModel, table=True):
    """A span during which a case's SLA clocks stood still, and why."""

    __tablename__ = "ticket_pauses"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ticket_id: uuid.UUID = Field(foreign_key="tickets.id", index=True)
    reason: str = Field(max_length=32)
    started_at: datetime = _timestamp(nullable=False)
    ended_at: datetime | None = _moment()


# Configuration as data


class Queue(TicketsModel, table=True):
    __tablename__ = "queues"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    manager: str | None = Field(default=None, max_length=200)
    # The agents who work this queue (they see its cases as theirs).
    members: list[str] = _json()
    created_at: datetime = _timestamp(nullable=False)


class RoutingRule(TicketsModel, table=True):
    __tablename__ = "routing_rules"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    position: int = Field(index=True)
    enabled: bool = True
    conditions: dict = _json(dict)
    queue: str | None = Field(default=None, max_length=64)
    dealer_strategy: str = Field(max_length=32)
    dealer_id: uuid.UUID | None = None
    watchers: list[str] = _json()
    created_at: datetime = _timestamp(nullable=False)
    updated_at: datetime = _timestamp(nullable=False)


class SlaPolicy(TicketsModel, table=True):
    __tablename__ = "sla_policies"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    kind: str | None = Field(default=None, max_length=32)
    priority: str | None = Field(default=None, max_length=16)
    first_response_minutes: int
    resolution_minutes: int
    business_hours: bool = False
    created_at: datetime = _timestamp(nullable=False)
    updated_at: datetime = _timestamp(nullable=False)

    __table_args__ = (UniqueConstraint("kind", "priority", postgresql_nulls_not_distinct=True),)


class DealerSettings(TicketsModel, table=True):
    """A dealer's opening hours (in its time zone) and the manager escalations remind."""

    __tablename__ = "dealer_settings"

    dealer_id: uuid.UUID = Field(primary_key=True)
    time_zone: str = Field(max_length=64)
    weekly_hours: dict = _json(dict)
    holidays: list[str] = _json()
    manager: str | None = Field(default=None, max_length=200)
    updated_at: datetime = _timestamp(nullable=False)


# Projections of profile's records


class KnownDealer(TicketsModel, table=True):
    __tablename__ = "known_dealers"

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    city: str = Field(max_length=100, index=True)
    region: str = Field(max_length=100)


class KnownOwner(TicketsModel, table=True):
    __tablename__ = "known_owners"

    id: uuid.UUID = Field(primary_key=True)
    city: str | None = Field(default=None, max_length=100)
    preferred_language: str = Field(default="en", max_length=8)
    servicing_dealer_id: uuid.UUID | None = None


class KnownVehicle(TicketsModel, table=True):
    __tablename__ = "known_vehicles"

    id: uuid.UUID = Field(primary_key=True)
    vin: str = Field(max_length=17)
    model: str = Field(max_length=100)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    servicing_dealer_id: uuid.UUID | None = None


class KnownFault(TicketsModel, table=True):
    """A vehicle's active fault codes (telematics' DTC events): a service booking carries them
    so the dealer can prepare parts."""

    __tablename__ = "known_faults"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    code: str = Field(primary_key=True, max_length=16)
    component: str | None = Field(default=None, max_length=100)
    mileage_km: float | None = None
    raised_at: datetime = _timestamp(nullable=False)
