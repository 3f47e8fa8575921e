"""What profile knows about each owner in one row (the facts segments read), the projections
of other services' events that feed it, segments, memberships and the lifecycle."""

import uuid
from datetime import date, datetime

from sqlalchemy import ARRAY, CheckConstraint, Column, Float, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from services.profile.models.core import ProfileModel, timestamp_field


class OwnerFacts(ProfileModel, table=True):
    """One row per owner: the attributes a segment condition may name, kept current by
    projections; both the SQL path and the in-memory path of a condition read this row."""

    __tablename__ = "owner_facts"

    owner_id: uuid.UUID = Field(foreign_key="owners.id", primary_key=True)
    lifecycle_stage: str = Field(default="awareness", max_length=24, index=True)
    points_balance: int = Field(default=0)
    latest_nps: int | None = None
    latest_csat: int | None = None
    detractor: bool = Field(default=False)
    open_tickets: int = Field(default=0)
    open_complaints: int = Field(default=0)
    assisted_driving_share: float | None = Field(default=None, sa_column=Column(Float))
    new_apps_30d: int | None = None
    harsh_events_per_100km: float | None = Field(default=None, sa_column=Column(Float))
    family_destination_share: float | None = Field(default=None, sa_column=Column(Float))
    distance_km_30d: float | None = Field(default=None, sa_column=Column(Float))
    service_due_date: date | None = None
    tags: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(Text), nullable=False, server_default="{}")
    )
    updated_at: datetime = timestamp_field(nullable=False)

    __table_args__ = (CheckConstraint("points_balance >= 0", name="points_never_negative"),)


class FeedbackScore(ProfileModel, table=True):
    """Projection of feedback's ResponseSubmitted: the owner's NPS and CSAT history."""

    __tablename__ = "feedback_scores"

    response_id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=16)
    score: int | None = None
    band: str | None = Field(default=None, max_length=16)
    touchpoint: str = Field(max_length=64)
    dealer_id: uuid.UUID | None = None
    submitted_at: datetime = timestamp_field(nullable=False)


class TicketProjection(ProfileModel, table=True):
    """Projection of tickets' events: enough to show open cases and count complaints."""

    __tablename__ = "ticket_projections"

    ticket_id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    dealer_id: uuid.UUID | None = None
    number: int
    kind: str = Field(max_length=32)
    category: str | None = Field(default=None, max_length=64)
    priority: str | None = Field(default=None, max_length=16)
    status: str = Field(max_length=32)
    open: bool = True
    created_at: datetime = timestamp_field(nullable=False)
    changed_at: datetime = timestamp_field(nullable=False)


class BehaviourSnapshot(ProfileModel, table=True):
    """Projection of telematics' DrivingBehaviourUpdated: the latest window per vehicle."""

    __tablename__ = "behaviour_snapshots"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    trips: int
    distance_km: float = Field(sa_column=Column(Float, nullable=False))
    harsh_events_per_100km: float = Field(sa_column=Column(Float, nullable=False))
    assisted_driving_share: float = Field(sa_column=Column(Float, nullable=False))
    night_share: float = Field(sa_column=Column(Float, nullable=False))
    new_apps: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    destination_categories: dict = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    computed_at: datetime = timestamp_field(nullable=False)


class ServiceDue(ProfileModel, table=True):
    """Projection of telematics' ServiceDuePredicted, the latest prediction per vehicle."""

    __tablename__ = "service_due"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    due_date: date
    reason: str = Field(max_length=16)
    predicted_at: datetime = timestamp_field(nullable=False)


class OwnerTag(ProfileModel, table=True):
    __tablename__ = "owner_tags"

    owner_id: uuid.UUID = Field(foreign_key="owners.id", primary_key=True)
    tag: str = Field(max_length=64, primary_key=True)
    source: str = Field(max_length=100)
    added_at: datetime = timestamp_field(nullable=False)


class Segment(ProfileModel, table=True):
    __tablename__ = "segments"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    condition: dict = Field(sa_column=Column(JSONB, nullable=False))
    version: int = 1
    created_at: datetime = timestamp_field(nullable=False)
    updated_at: datetime = timestamp_field(nullable=False)
    # A durable timer: conditions over time windows and due dates change with the clock alone,
    # so every segment is recomputed in full when this passes (see timers.py).
    recompute_at: datetime = timestamp_field(nullable=False, index=True)


class SegmentMembership(ProfileModel, table=True):
    __tablename__ = "segment_memberships"

    segment_key: str = Field(max_length=64, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", primary_key=True)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    entered_at: datetime = timestamp_field(nullable=False)

    __table_args__ = (Index("ix_segment_memberships_owner", "owner_id"),)


class LifecycleEntry(ProfileModel, table=True):
    __tablename__ = "lifecycle_history"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", index=True)
    stage: str = Field(max_length=24)
    because: str = Field(max_length=200)
    changed_at: datetime = timestamp_field(nullable=False)
