"""Interaction events, leads, consents, ownership over time, households and dealer groups."""

import uuid
from datetime import date, datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from services.profile.models.core import ProfileModel, timestamp_field


class InteractionEvent(ProfileModel, table=True):
    """One thing an owner did in the app, on the web or on social media (a catalogue type)."""

    __tablename__ = "interaction_events"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="owners.id")
    type: str = Field(max_length=64)
    source: str = Field(max_length=32)
    occurred_at: datetime = timestamp_field(nullable=False)
    properties: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    # The client's own id of the event, so a batch resent after a timeout is stored once.
    client_event_id: str | None = Field(default=None, max_length=64)
    received_at: datetime = timestamp_field(nullable=False)

    __table_args__ = (
        Index("ix_interaction_events_owner_type_time", "owner_id", "type", "occurred_at"),
        UniqueConstraint("owner_id", "client_event_id"),
    )


class Lead(ProfileModel, table=True):
    __tablename__ = "leads"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=16)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", index=True)
    dealer_id: uuid.UUID = Field(foreign_key="dealers.id", index=True)
    model: str | None = Field(default=None, max_length=100)
    channel: str = Field(max_length=32)
    requested_slot: datetime | None = None
    referrer_owner_id: uuid.UUID | None = Field(default=None, foreign_key="owners.id")
    created_at: datetime = timestamp_field(nullable=False)


class Consent(ProfileModel, table=True):
    """The current answer for one purpose on one channel; `ConsentEntry` keeps every answer."""

    __tablename__ = "consents"

    owner_id: uuid.UUID = Field(foreign_key="owners.id", primary_key=True)
    purpose: str = Field(max_length=32, primary_key=True)
    channel: str = Field(max_length=16, primary_key=True)
    granted: bool
    notice_version: str = Field(max_length=32)
    source: str = Field(max_length=32)
    changed_at: datetime = timestamp_field(nullable=False)


class ConsentEntry(ProfileModel, table=True):
    __tablename__ = "consent_history"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", index=True)
    purpose: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    granted: bool
    notice_version: str = Field(max_length=32)
    source: str = Field(max_length=32)
    changed_at: datetime = timestamp_field(nullable=False)
    recorded_by: str = Field(max_length=200)


class VehicleRole(ProfileModel, table=True):
    """Who owned or drove a vehicle, and when: `effective_to` is None while it holds."""

    __tablename__ = "vehicle_roles"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vehicle_id: uuid.UUID = Field(foreign_key="vehicles.id", index=True)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", index=True)
    role: str = Field(max_length=24)
    effective_from: date
    effective_to: date | None = None
    created_at: datetime = timestamp_field(nullable=False)


class Household(ProfileModel, table=True):
    __tablename__ = "households"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    created_by_dealer_id: uuid.UUID | None = Field(default=None, foreign_key="dealers.id")
    created_at: datetime = timestamp_field(nullable=False)


class HouseholdMember(ProfileModel, table=True):
    """An owner belongs to at most one household (journeys cap contacts per household)."""

    __tablename__ = "household_members"

    owner_id: uuid.UUID = Field(foreign_key="owners.id", primary_key=True)
    household_id: uuid.UUID = Field(foreign_key="households.id", index=True)
    joined_at: datetime = timestamp_field(nullable=False)


class HouseholdDeparture(ProfileModel, table=True):
    """That an owner left a household through the API, and when (the latest time): a repeated
    leave is then answered as done, even once no member is left to show the household by."""

    __tablename__ = "household_departures"

    household_id: uuid.UUID = Field(foreign_key="households.id", primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", primary_key=True, index=True)
    left_at: datetime = timestamp_field(nullable=False)


class DealerGroup(ProfileModel, table=True):
    """The middle of the dealer hierarchy: region -> dealer group -> dealer."""

    __tablename__ = "dealer_groups"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=200)
    region: str = Field(max_length=100, index=True)
    created_at: datetime = timestamp_field(nullable=False)
