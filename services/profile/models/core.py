"""Profile's tables. Every dealer-owned row carries `dealer_id`; links make visibility."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Column, DateTime, Numeric, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import add_messaging_tables


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp_field(**kwargs) -> Field:
    return Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), **kwargs))


class ProfileModel(SQLModel, registry=registry()):
    """Base of profile's models; its own registry keeps its metadata apart from others'."""


metadata = ProfileModel.metadata
add_messaging_tables(metadata)


class Dealer(ProfileModel, table=True):
    __tablename__ = "dealers"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=200)
    city: str = Field(max_length=100, index=True)
    region: str = Field(max_length=100, index=True)
    group_id: uuid.UUID | None = Field(default=None, foreign_key="dealer_groups.id", index=True)
    created_at: datetime = timestamp_field(nullable=False)


class Owner(ProfileModel, table=True):
    __tablename__ = "owners"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Personal fields are sealed with the owner's own key (see service/vault.py).
    full_name: str = Field(sa_column=Column(Text, nullable=False))
    email: str | None = Field(default=None, sa_column=Column(Text))
    phone: str | None = Field(default=None, sa_column=Column(Text))
    city: str | None = Field(default=None, max_length=100)
    preferred_language: str = Field(default="en", max_length=8)
    # Keyed hashes of the normalised contact details: identity resolution without plaintext.
    email_hash: str | None = Field(default=None, max_length=64, index=True)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    # Who vouched for each contact and when (None: unverified). Only a verified contact
    # identifies a person across records; a changed contact is unverified again.
    email_verified_by: str | None = Field(default=None, max_length=16)
    email_verified_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    phone_verified_by: str | None = Field(default=None, max_length=16)
    phone_verified_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    merged_into: uuid.UUID | None = Field(default=None, foreign_key="owners.id")
    erased_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = timestamp_field(nullable=False)


class OwnerDealer(ProfileModel, table=True):
    """A dealer's relation to an owner; a dealer sees an owner only through one."""

    __tablename__ = "owner_dealers"

    owner_id: uuid.UUID = Field(foreign_key="owners.id", primary_key=True)
    dealer_id: uuid.UUID = Field(foreign_key="dealers.id", primary_key=True, index=True)
    relation: str = Field(max_length=20)
    external_id: str | None = Field(default=None, max_length=64)

    __table_args__ = (UniqueConstraint("dealer_id", "external_id"),)


class Vehicle(ProfileModel, table=True):
    __tablename__ = "vehicles"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vin: str = Field(unique=True, max_length=17)
    model: str = Field(max_length=100)
    trim: str | None = Field(default=None, max_length=100)
    production_date: date | None = None
    delivery_date: date | None = None
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="owners.id", index=True)
    selling_dealer_id: uuid.UUID | None = Field(default=None, foreign_key="dealers.id")
    servicing_dealer_id: uuid.UUID | None = Field(default=None, foreign_key="dealers.id")
    components: list[dict] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = timestamp_field(nullable=False)


class VehicleDealer(ProfileModel, table=True):
    """A dealer's relation to a vehicle; a dealer sees a vehicle only through one."""

    __tablename__ = "vehicle_dealers"

    vehicle_id: uuid.UUID = Field(foreign_key="vehicles.id", primary_key=True)
    dealer_id: uuid.UUID = Field(foreign_key="dealers.id", primary_key=True, index=True)
    relation: str = Field(max_length=20)


class Order(ProfileModel, table=True):
    __tablename__ = "orders"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dealer_id: uuid.UUID = Field(foreign_key="dealers.id", index=True)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", index=True)
    external_id: str | None = Field(default=None, max_length=64)
    model: str = Field(max_length=100)
    vin: str | None = Field(default=None, max_length=17)
    status: str = Field(max_length=32)
    status_changed_at: datetime = timestamp_field(nullable=False)
    created_at: datetime = timestamp_field(nullable=False)

    __table_args__ = (UniqueConstraint("dealer_id", "external_id"),)


class OrderStatusEntry(ProfileModel, table=True):
    """One step of an order's status timeline."""

    __tablename__ = "order_status_entries"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", index=True)
    status: str = Field(max_length=32)
    changed_at: datetime = timestamp_field(nullable=False)


class ServiceVisit(ProfileModel, table=True):
    __tablename__ = "service_visits"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dealer_id: uuid.UUID = Field(foreign_key="dealers.id", index=True)
    vehicle_id: uuid.UUID = Field(foreign_key="vehicles.id", index=True)
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="owners.id", index=True)
    external_id: str | None = Field(default=None, max_length=64)
    visit_type: str = Field(max_length=32)
    visit_date: date
    mileage_km: int
    parts: list[dict] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    recall_codes: list[str] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default="[]")
    )
    cost: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    created_at: datetime = timestamp_field(nullable=False)

    __table_args__ = (UniqueConstraint("dealer_id", "external_id"),)
