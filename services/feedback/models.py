"""Feedback's tables: survey configuration as data, invitations and answers, posts, the
topic taxonomy, and local projections of profile's dealers, owners and vehicles.

Feedback holds no contact details: owners are ids, and messages go out through journeys.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, text
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


class FeedbackModel(SQLModel, registry=registry()):
    """Base of feedback's models; its own registry keeps its metadata apart from others'."""


metadata = FeedbackModel.metadata
add_messaging_tables(metadata)


class SurveyTemplate(FeedbackModel, table=True):
    """One version of a survey; versions are immutable once created (answers point at one)."""

    __tablename__ = "survey_templates"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(max_length=64, index=True)
    version: int
    kind: str = Field(max_length=16)
    title: dict = _json(dict)
    questions: list[dict] = _json()
    created_by: str = Field(max_length=200)
    created_at: datetime = _timestamp(nullable=False)

    __table_args__ = (UniqueConstraint("key", "version"),)


class Trigger(FeedbackModel, table=True):
    """Which touchpoint sends which survey, after what delay, how often per owner."""

    __tablename__ = "triggers"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    touchpoint: str = Field(max_length=32, unique=True)
    survey_key: str = Field(max_length=64)
    delay_minutes: int = 0
    throttle_days: int = 30
    enabled: bool = True
    created_at: datetime = _timestamp(nullable=False)
    updated_at: datetime = _timestamp(nullable=False)


class Invitation(FeedbackModel, table=True):
    __tablename__ = "invitations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    template_id: uuid.UUID = Field(foreign_key="survey_templates.id")
    status: str = Field(max_length=16, index=True)
    touchpoint: str = Field(max_length=32)
    lifecycle_stage: str | None = Field(default=None, max_length=32)
    owner_id: uuid.UUID = Field(index=True)
    dealer_id: uuid.UUID | None = Field(default=None, index=True)
    vehicle_id: uuid.UUID | None = None
    vin: str | None = Field(default=None, max_length=17)
    model: str | None = Field(default=None, max_length=100)
    language: str = Field(default="en", max_length=8)
    # The fact that caused it (`order:<id>`, `service_visit:<id>`, ...): one invitation each.
    source: str = Field(max_length=128, unique=True)
    ticket_id: uuid.UUID | None = None
    # Only a SHA-256 of the token is kept; the token itself travels in the event once.
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    send_at: datetime = _timestamp(nullable=False)
    sent_at: datetime | None = _moment()
    expires_at: datetime | None = _moment()
    answered_at: datetime | None = _moment()
    suppressed_reason: str | None = Field(default=None, max_length=32)
    created_by: str = Field(max_length=200)
    created_at: datetime = _timestamp(nullable=False)

    __table_args__ = (
        Index("ix_invitations_due", "send_at", postgresql_where=text("status = 'scheduled'")),
        Index("ix_invitations_owner_sent", "owner_id", "sent_at"),
    )


class Response(FeedbackModel, table=True):
    """One answer to one invitation, with where it came from and what its text says."""

    __tablename__ = "responses"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    invitation_id: uuid.UUID = Field(foreign_key="invitations.id", unique=True)
    template_id: uuid.UUID = Field(foreign_key="survey_templates.id")
    survey_key: str = Field(max_length=64)
    survey_version: int
    kind: str = Field(max_length=16)
    score: int | None = None
    band: str | None = Field(default=None, max_length=16)
    answers: dict = _json(dict)
    comment: str | None = Field(default=None, max_length=4000)
    touchpoint: str = Field(max_length=32)
    lifecycle_stage: str | None = Field(default=None, max_length=32)
    owner_id: uuid.UUID = Field(index=True)
    dealer_id: uuid.UUID | None = Field(default=None, index=True)
    vehicle_id: uuid.UUID | None = None
    model: str | None = Field(default=None, max_length=100)
    ticket_id: uuid.UUID | None = None
    language: str = Field(default="en", max_length=8)
    topics: list[str] = _json()
    sentiment: float | None = None
    severity: str | None = Field(default=None, max_length=16)
    flag: str | None = Field(default=None, max_length=16)
    # Provenance: how the answer arrived; fingerprints are keyed hashes, never raw values.
    channel: str = Field(max_length=16)
    device_hash: str | None = Field(default=None, max_length=64)
    network_hash: str | None = Field(default=None, max_length=64)
    submitted_at: datetime = _timestamp(nullable=False)

    __table_args__ = (Index("ix_responses_kind_submitted", "kind", "submitted_at"),)


class Topic(FeedbackModel, table=True):
    __tablename__ = "topics"

    key: str = Field(primary_key=True, max_length=64)
    name_en: str = Field(max_length=100)
    name_zh: str = Field(max_length=100)
    severity: str = Field(max_length=16)
    keywords_en: list[str] = _json()
    keywords_zh: list[str] = _json()
    updated_at: datetime = _timestamp(nullable=False)


class Post(FeedbackModel, table=True):
    """A community post, app-store or auto-media review or social mention, by source id."""

    __tablename__ = "posts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    source: str = Field(max_length=32)
    source_id: str = Field(max_length=128)
    url: str | None = Field(default=None, max_length=500)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    dealer_id: uuid.UUID | None = Field(default=None, index=True)
    vehicle_id: uuid.UUID | None = None
    vin: str | None = Field(default=None, max_length=17)
    title: str | None = Field(default=None, max_length=300)
    body: str = Field(max_length=10_000)
    rating: int | None = None
    likes: int = 0
    comments: int = 0
    shares: int = 0
    language: str = Field(max_length=8)
    topics: list[str] = _json()
    sentiment: float
    severity: str = Field(max_length=16)
    flag: str | None = Field(default=None, max_length=16, index=True)
    published_at: datetime = _timestamp(nullable=False)
    flagged_at: datetime | None = _moment()
    created_at: datetime = _timestamp(nullable=False)
    updated_at: datetime = _timestamp(nullable=False)

    __table_args__ = (UniqueConstraint("source", "source_id"),)


# Local projections, kept from profile's events


class KnownDealer(FeedbackModel, table=True):
    __tablename__ = "known_dealers"

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    region: str = Field(max_length=100, index=True)


class KnownOwner(FeedbackModel, table=True):
    __tablename__ = "known_owners"

    id: uuid.UUID = Field(primary_key=True)
    dealer_id: uuid.UUID | None = None
    preferred_language: str = Field(default="en", max_length=8)


class KnownVehicle(FeedbackModel, table=True):
    __tablename__ = "known_vehicles"

    id: uuid.UUID = Field(primary_key=True)
    vin: str = Field(max_length=17, unique=True)
    model: str = Field(max_length=100)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    dealer_id: uuid.UUID | None = None
