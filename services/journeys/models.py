"""Journeys' tables: definitions as data, running instances (their `due_at` is the durable
timer), the owner's inbox and outgoing deliveries, the decision log, recall campaigns, and
local projections of profile and telematics facts (learnt from events)."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, Date, DateTime, Identity, Index, UniqueConstraint, text
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


def _json(default_factory=dict) -> Field:
    return Field(default_factory=default_factory, sa_column=Column(JSONB, nullable=False))


class JourneysModel(SQLModel, registry=registry()):
    """Base of journeys' models; its own registry keeps its metadata apart from others'."""


metadata = JourneysModel.metadata
add_messaging_tables(metadata)


class JourneyDefinition(JourneysModel, table=True):
    """One version of a journey; `spec` is the validated `JourneySpec`."""

    __tablename__ = "journey_definitions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(max_length=64, index=True)
    version: int
    status: str = Field(max_length=16)
    category: str = Field(max_length=16)
    trigger_type: str = Field(max_length=32)
    trigger_event: str | None = Field(default=None, max_length=100, index=True)
    spec: dict = _json()
    created_by: str = Field(max_length=200)
    created_at: datetime = _timestamp(nullable=False)
    activated_at: datetime | None = _moment()
    # The last local day a date trigger was evaluated for (so each day runs once).
    scheduled_through: date | None = Field(default=None, sa_column=Column(Date))

    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index(
            "ux_journey_definitions_one_active",
            "key",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )


class JourneyInstance(JourneysModel, table=True):
    """One owner in one run of one journey version."""

    __tablename__ = "journey_instances"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    definition_id: uuid.UUID = Field(foreign_key="journey_definitions.id", index=True)
    journey_key: str = Field(max_length=64)
    version: int
    owner_id: uuid.UUID = Field(index=True)
    run_key: str = Field(max_length=200)
    status: str = Field(max_length=16)
    priority: int = 2
    step_id: str | None = Field(default=None, max_length=40)
    # Steps taken so far: with the step id, it names each effect (idempotency).
    visits: int = 0
    due_at: datetime | None = _moment()
    waiting_event: str | None = Field(default=None, max_length=100)
    context: dict = _json()
    holdout: bool = False
    entered_at: datetime = _timestamp(nullable=False)
    finished_at: datetime | None = _moment()
    converted_at: datetime | None = _moment()

    __table_args__ = (
        UniqueConstraint("journey_key", "owner_id", "run_key"),
        Index(
            "ix_journey_instances_due",
            "priority",
            "due_at",
            postgresql_where=text("status IN ('active', 'waiting')"),
        ),
        Index(
            "ix_journey_instances_waiting",
            "owner_id",
            "waiting_event",
            postgresql_where=text("status = 'waiting'"),
        ),
        Index(
            "ix_journey_instances_waited_event",
            "waiting_event",
            postgresql_where=text("status = 'waiting'"),
        ),
    )


class Message(JourneysModel, table=True):
    """A message to an owner: always in their in-app inbox, rendered in their language."""

    __tablename__ = "messages"

    id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID = Field(index=True)
    instance_id: uuid.UUID | None = Field(default=None, index=True)
    journey_key: str | None = Field(default=None, max_length=64)
    step_id: str | None = Field(default=None, max_length=40)
    vehicle_id: uuid.UUID | None = None
    template_key: str = Field(max_length=64)
    category: str = Field(max_length=16)
    language: str = Field(max_length=8)
    title: str = Field(max_length=200)
    body: str = Field(max_length=4000)
    link: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _timestamp(nullable=False)
    read_at: datetime | None = _moment()


class Delivery(JourneysModel, table=True):
    """A message on one outside channel (push, SMS, e-mail) or a webhook call, queued for a
    sender; `not_before` holds it through quiet hours or a drive."""

    __tablename__ = "deliveries"

    id: uuid.UUID = Field(primary_key=True)
    message_id: uuid.UUID | None = Field(default=None, index=True)
    owner_id: uuid.UUID = Field(index=True)
    vehicle_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None
    channel: str = Field(max_length=16)
    category: str = Field(max_length=16)
    priority: int = 2
    status: str = Field(max_length=16)
    not_before: datetime = _timestamp(nullable=False)
    attempts: int = 0
    payload: dict = _json()
    provider_ref: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _timestamp(nullable=False)
    sent_at: datetime | None = _moment()

    __table_args__ = (
        Index("ix_deliveries_queued", "priority", "not_before", postgresql_where=text(
            "status = 'queued'")),
        Index("ix_deliveries_owner_window", "owner_id", "created_at"),
    )  # fmt: skip


class Decision(JourneysModel, table=True):
    """Why a step sent, deferred or suppressed a message (or held the owner out)."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    owner_id: uuid.UUID
    journey_key: str | None = Field(default=None, max_length=64)
    instance_id: uuid.UUID | None = None
    step_id: str | None = Field(default=None, max_length=40)
    channel: str | None = Field(default=None, max_length=16)
    outcome: str = Field(max_length=16)
    reason: str = Field(max_length=32)
    detail: str | None = Field(default=None, max_length=500)
    at: datetime = _timestamp(nullable=False)

    __table_args__ = (Index("ix_decisions_owner", "owner_id", "at"),)


class MessageTemplate(JourneysModel, table=True):
    """A template written through the API (shipped ones live in the catalogue)."""

    __tablename__ = "message_templates"

    key: str = Field(primary_key=True, max_length=64)
    variants: dict = _json()
    link: str | None = Field(default=None, max_length=2000)
    updated_by: str = Field(max_length=200)
    updated_at: datetime = _timestamp(nullable=False)


class ContactPolicyRow(JourneysModel, table=True):
    __tablename__ = "contact_policy"

    id: str = Field(primary_key=True, max_length=16)
    policy: dict = _json()
    updated_at: datetime = _timestamp(nullable=False)


class Recall(JourneysModel, table=True):
    __tablename__ = "recalls"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    title: dict = _json()
    created_by: str = Field(max_length=200)
    created_at: datetime = _timestamp(nullable=False)


class RecallVehicle(JourneysModel, table=True):
    """One VIN of a recall: its owner when known, the instance that notified them, and
    completion when a service visit with the recall's code arrives."""

    __tablename__ = "recall_vehicles"

    recall_id: uuid.UUID = Field(foreign_key="recalls.id", primary_key=True)
    vin: str = Field(max_length=17, primary_key=True)
    vehicle_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    dealer_id: uuid.UUID | None = None
    instance_id: uuid.UUID | None = None
    completed_at: datetime | None = _moment()


# Local projections of other services' facts


class KnownOwner(JourneysModel, table=True):
    __tablename__ = "known_owners"

    id: uuid.UUID = Field(primary_key=True)
    dealer_id: uuid.UUID | None = None
    language: str = Field(default="en", max_length=8)
    lifecycle_stage: str | None = Field(default=None, max_length=32)
    # From profile's household events: caps per household count members together.
    household_id: uuid.UUID | None = Field(default=None, index=True)
    # The owner's contact preferences, set in the app through journeys.
    timezone: str | None = Field(default=None, max_length=64)
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)


class KnownVehicle(JourneysModel, table=True):
    __tablename__ = "known_vehicles"

    id: uuid.UUID = Field(primary_key=True)
    vin: str = Field(max_length=17, unique=True)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    servicing_dealer_id: uuid.UUID | None = None
    model: str | None = Field(default=None, max_length=100)
    delivery_date: date | None = Field(default=None, sa_column=Column(Date, index=True))
    # Set by a trip start, cleared by its end: no push while driving.
    moving_since: datetime | None = _moment()


class OwnerConsent(JourneysModel, table=True):
    __tablename__ = "owner_consents"

    owner_id: uuid.UUID = Field(primary_key=True)
    purpose: str = Field(primary_key=True, max_length=32)
    channel: str = Field(primary_key=True, max_length=16)
    granted: bool
    changed_at: datetime = _timestamp(nullable=False)


class OwnerSegment(JourneysModel, table=True):
    __tablename__ = "owner_segments"

    segment_key: str = Field(primary_key=True, max_length=64)
    owner_id: uuid.UUID = Field(primary_key=True, index=True)


class OwnerTag(JourneysModel, table=True):
    """Tags journeys gave the owner (profile keeps the owner's full set)."""

    __tablename__ = "owner_tags"

    owner_id: uuid.UUID = Field(primary_key=True)
    tag: str = Field(primary_key=True, max_length=64)


class ErasedOwner(JourneysModel, table=True):
    """An owner whose data was erased: late events about them are ignored."""

    __tablename__ = "erased_owners"

    owner_id: uuid.UUID = Field(primary_key=True)
    request_id: uuid.UUID
    erased_at: datetime = _timestamp(nullable=False)
