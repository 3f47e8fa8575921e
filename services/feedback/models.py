"""Feedback's tables: survey configuration as data, invitations and answers, posts, the
topic taxonomy, and local projections of profile's dealers, owners and vehicles.

Feedback holds no contact details: owners are ids, and messages go out through journeys.
"""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import CIDR, JSONB
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
    # None once the owner is erased (the invitation stays, anonymous, for response rates).
    owner_id: uuid.UUID | None = Field(default=None, index=True)
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
    # None once the owner is erased: the score stays, anonymous, for statistics.
    owner_id: uuid.UUID | None = Field(default=None, index=True)
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
    # Sent from an address inside one of the dealer's registered networks.
    from_dealer_network: bool = False
    submitted_at: datetime = _timestamp(nullable=False)
    erased_at: datetime | None = _moment()

    __table_args__ = (
        # Carries who answered from where: the integrity report's shared-network figure
        # reads a window's answers from the index alone, not from pages all over the table.
        Index(
            "ix_responses_kind_submitted",
            "kind",
            "submitted_at",
            postgresql_include=["dealer_id", "owner_id", "network_hash", "device_hash"],
        ),
        Index("ix_responses_dealer_kind_submitted", "dealer_id", "kind", "submitted_at"),
    )


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
    # When the connector saw the engagement counts: an older snapshot never overwrites a newer.
    engagement_seen_at: datetime | None = _moment()
    flagged_at: datetime | None = _moment()
    # Set when its author was erased: the post stays, empty, so a resent copy stays out.
    erased_at: datetime | None = _moment()
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
    lifecycle_stage: str | None = Field(default=None, max_length=32)


class KnownVehicle(FeedbackModel, table=True):
    __tablename__ = "known_vehicles"

    id: uuid.UUID = Field(primary_key=True)
    vin: str = Field(max_length=17, unique=True)
    model: str = Field(max_length=100)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    dealer_id: uuid.UUID | None = None


# Integrity: every touchpoint, invited or not, and the dealers' own networks


class TouchpointRecord(FeedbackModel, table=True):
    """A delivery, service visit, resolved case or journey request that may earn a survey,
    with what came of it: the suppression audit reads the ones that earned none."""

    __tablename__ = "touchpoints"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    source: str = Field(max_length=128, unique=True)
    touchpoint: str = Field(max_length=32)
    dealer_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    vehicle_id: uuid.UUID | None = None
    invitation_id: uuid.UUID | None = Field(default=None, foreign_key="invitations.id")
    # invited, or why not: no_trigger, trigger_disabled, survey_missing, no_owner, owner_erased
    outcome: str = Field(max_length=32)
    occurred_at: datetime = _timestamp(nullable=False)

    __table_args__ = (Index("ix_touchpoints_dealer_occurred", "dealer_id", "occurred_at"),)


class DealerNetwork(FeedbackModel, table=True):
    """An address range the dealer's own premises answer from (registered by staff)."""

    __tablename__ = "dealer_networks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dealer_id: uuid.UUID = Field(index=True)
    cidr: str = Field(sa_column=Column(CIDR, nullable=False))
    label: str | None = Field(default=None, max_length=100)
    created_by: str = Field(max_length=200)
    created_at: datetime = _timestamp(nullable=False)

    __table_args__ = (UniqueConstraint("dealer_id", "cidr"),)


# Analytics: counts per period and cell, kept in the transaction of each answer


def _cell(name: str, *, topic: bool = False) -> tuple:
    columns = ["grain", "period_start", "all_dealers", "dealer_id", "touchpoint"]
    columns += ["lifecycle_stage", "model", "kind"]
    columns += ["band", "topic"] if topic else []
    return (
        UniqueConstraint(*columns, name=f"uq_{name}_cell", postgresql_nulls_not_distinct=True),
        Index(f"ix_{name}_period", "grain", "kind", "all_dealers", "period_start"),
    )


class RollupCell(FeedbackModel):
    """Where a count belongs: one period (day, week or month) of one dealer, touchpoint,
    lifecycle stage, model and survey kind. Every answer is also counted once more in the
    cell of all dealers together (`all_dealers`, no dealer id), so that the network-wide
    figures staff look at most read a two-hundredth of the rows."""

    grain: str = Field(max_length=8)
    period_start: date
    all_dealers: bool = False
    dealer_id: uuid.UUID | None = None
    touchpoint: str = Field(max_length=32)
    lifecycle_stage: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=100)
    kind: str = Field(max_length=16)


def _rollup_id() -> Field:
    return Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))


class ScoreRollup(RollupCell, table=True):
    """Invitations sent and answers received in a cell."""

    __tablename__ = "score_rollups"

    id: int | None = _rollup_id()
    invited: int = 0
    responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    top_box: int = 0
    score_sum: int = 0
    from_dealer_network: int = 0

    __table_args__ = _cell("score_rollups")


class TopicRollup(RollupCell, table=True):
    """How many answers of each band named each topic, in a cell."""

    __tablename__ = "topic_rollups"

    id: int | None = _rollup_id()
    band: str = Field(max_length=16)
    topic: str = Field(max_length=64)
    mentions: int = 0

    __table_args__ = _cell("topic_rollups", topic=True)


# Privacy


class ErasedOwner(FeedbackModel, table=True):
    """An owner whose data was erased: late events about them are kept anonymous."""

    __tablename__ = "erased_owners"

    owner_id: uuid.UUID = Field(primary_key=True)
    request_id: uuid.UUID
    erased_at: datetime = _timestamp(nullable=False)
