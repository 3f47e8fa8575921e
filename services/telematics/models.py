"""Telematics' tables: projections of profile's vehicles, owners' location consent and part
history (learnt from events), the derived facts, configuration as data and quality alerts.

The raw signals are not here: `signals` is a range-partitioned table of wide rows written with
COPY, declared in the migration (SQL) and touched only by `ingestion` and `derivation` SQL.
"""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import add_messaging_tables


def utc_now() -> datetime:
    return datetime.now(UTC)


def _moment(nullable: bool = True, **kwargs) -> Field:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, **kwargs),
    )


def _json(default_factory=list) -> Field:
    return Field(default_factory=default_factory, sa_column=Column(JSONB, nullable=False))


class TelematicsModel(SQLModel, registry=registry()):
    """Base of telematics' models; its own registry keeps its metadata apart from others'."""


metadata = TelematicsModel.metadata
add_messaging_tables(metadata)


# Projections of profile


class Vehicle(TelematicsModel, table=True):
    """A registered vehicle, its current owner and dealers, and the mileage seen so far."""

    __tablename__ = "vehicles"

    id: uuid.UUID = Field(primary_key=True)
    vin: str = Field(max_length=32, unique=True)
    model: str = Field(default="", max_length=100)
    registered: bool = False  # known from VehicleRegistered (not only from a service visit)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    owner_since: date | None = None
    selling_dealer_id: uuid.UUID | None = Field(default=None, index=True)
    servicing_dealer_id: uuid.UUID | None = Field(default=None, index=True)
    delivery_date: date | None = None
    first_mileage_km: float | None = None
    mileage_km: float | None = None
    mileage_at: datetime | None = _moment()


class OwnershipPeriod(TelematicsModel, table=True):
    """Who owned a vehicle when: erasure finds an owner's data by these periods."""

    __tablename__ = "ownership_periods"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vehicle_id: uuid.UUID = Field(index=True)
    owner_id: uuid.UUID = Field(index=True)
    started_on: date
    ended_on: date | None = None


class LocationConsent(TelematicsModel, table=True):
    __tablename__ = "location_consents"

    owner_id: uuid.UUID = Field(primary_key=True)
    granted: bool
    changed_at: datetime = _moment(nullable=False)


class FittedPart(TelematicsModel, table=True):
    """A component batch on a vehicle, from `fitted_km` until it was replaced."""

    __tablename__ = "fitted_parts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vehicle_id: uuid.UUID = Field(index=True)
    component: str = Field(max_length=100)
    part_number: str = Field(max_length=100)
    batch_code: str = Field(max_length=100)
    fitted_km: float = 0.0
    removed_km: float | None = None

    __table_args__ = (
        Index(
            "ux_fitted_parts_current",
            "vehicle_id",
            "component",
            unique=True,
            postgresql_where=text("removed_km IS NULL"),
        ),
        Index("ix_fitted_parts_batch", "component", "batch_code"),
    )


class PartFailure(TelematicsModel, table=True):
    """A fitted part that failed: replaced at a service visit, or named by a fault code."""

    __tablename__ = "part_failures"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    fitted_part_id: uuid.UUID = Field(unique=True)
    vehicle_id: uuid.UUID = Field(index=True)
    mileage_km: float
    occurred_at: datetime = _moment(nullable=False)
    source: str = Field(max_length=32)  # service_visit | dtc


class ServiceVisit(TelematicsModel, table=True):
    __tablename__ = "service_visits"

    id: uuid.UUID = Field(primary_key=True)
    vehicle_id: uuid.UUID = Field(index=True)
    dealer_id: uuid.UUID
    visit_date: date
    mileage_km: float
    visit_type: str = Field(max_length=64)


# State and derived facts


class VehicleState(TelematicsModel, table=True):
    """The latest value of every signal of a vehicle (written by ingestion's SQL)."""

    __tablename__ = "vehicle_state"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    ts: datetime = _moment(nullable=False)
    speed: float | None = None
    odometer_m: float | None = None
    soc: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_charging: bool | None = None
    gear: int | None = None
    updated_at: datetime = _moment(nullable=False)


class DerivationCursor(TelematicsModel, table=True):
    """Where the derivation worker stands for a vehicle: rows after `derived_until` are new to
    it; `state` is what is still open (a trip, a charging session) as tallies. Ingestion sets
    `dirty` and, in `arrived_from`, the earliest of the rows it added since: at or before
    `derived_until`, they are late, and derivation goes back for them."""

    __tablename__ = "derivation_cursors"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    dirty: bool = True
    derived_until: datetime | None = _moment()
    state: dict | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    arrived_from: datetime | None = _moment()
    faults_seen_until: datetime | None = _moment()
    recheck_at: datetime | None = _moment()
    open_trip_id: uuid.UUID | None = None
    open_trip_started_at: datetime | None = _moment()
    predicted_on: date | None = None

    __table_args__ = (
        Index("ix_derivation_cursors_due", "recheck_at", postgresql_where=text("NOT dirty")),
        Index("ix_derivation_cursors_dirty", "vehicle_id", postgresql_where=text("dirty")),
    )


class Trip(TelematicsModel, table=True):
    __tablename__ = "trips"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vehicle_id: uuid.UUID
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    started_at: datetime = _moment(nullable=False)
    ended_at: datetime = _moment(nullable=False)
    points: int
    distance_km: float
    duration_seconds: float
    energy_kwh: float | None = None
    efficiency_wh_per_km: float | None = None
    harsh_accelerations: int = 0
    harsh_brakings: int = 0
    overspeed_share: float = 0.0
    night_share: float = 0.0
    assisted_share: float = 0.0
    apps: list[str] = _json()
    destination: str | None = Field(default=None, max_length=200)

    __table_args__ = (UniqueConstraint("vehicle_id", "started_at"),)


class AppUse(TelematicsModel, table=True):
    """When a vehicle first used each in-car app (a "new app" for behaviour)."""

    __tablename__ = "app_uses"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    app: str = Field(primary_key=True, max_length=200)
    first_used_at: datetime = _moment(nullable=False)


class ChargingSession(TelematicsModel, table=True):
    __tablename__ = "charging_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vehicle_id: uuid.UUID
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    started_at: datetime = _moment(nullable=False)
    ended_at: datetime = _moment(nullable=False)
    start_soc: float
    end_soc: float
    energy_kwh: float
    peak_power_kw: float
    fast: bool
    cost: float
    currency: str = Field(max_length=3)
    latitude: float | None = None
    longitude: float | None = None

    __table_args__ = (UniqueConstraint("vehicle_id", "started_at"),)


class Fault(TelematicsModel, table=True):
    """A diagnostic trouble code, active until `cleared_at`."""

    __tablename__ = "faults"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    vehicle_id: uuid.UUID = Field(index=True)
    code: str = Field(max_length=32)
    component: str | None = Field(default=None, max_length=100)
    mileage_km: float | None = None
    raised_at: datetime = _moment(nullable=False)
    cleared_at: datetime | None = _moment()

    __table_args__ = (
        Index(
            "ux_faults_active",
            "vehicle_id",
            "code",
            unique=True,
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )


class DailyMileage(TelematicsModel, table=True):
    """The highest odometer reading of each day: a vehicle's pace (km per day)."""

    __tablename__ = "daily_mileage"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    day: date = Field(primary_key=True)
    mileage_km: float


class ServiceDueRow(TelematicsModel, table=True):
    __tablename__ = "service_due"

    vehicle_id: uuid.UUID = Field(primary_key=True)
    due_date: date
    reason: str = Field(max_length=16)
    mileage_km: float
    km_per_day: float
    predicted_at: datetime = _moment(nullable=False)


# Configuration and quality


class SettingsRow(TelematicsModel, table=True):
    """Configuration as data: `analysis` and `quality`, each one JSON document."""

    __tablename__ = "settings"

    key: str = Field(primary_key=True, max_length=32)
    value: dict = _json(dict)
    updated_by: str = Field(max_length=200)
    updated_at: datetime = _moment(nullable=False)


class QualityAlert(TelematicsModel, table=True):
    """One per component batch: raised once, its evidence refreshed by later analyses."""

    __tablename__ = "quality_alerts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    component: str = Field(max_length=100)
    batch_code: str = Field(max_length=100)
    threshold_km: float
    failures: int
    exposure_km: float
    rate_ratio: float
    rate_ratio_lower_bound: float
    rate_ratio_interval: list[float] = _json()
    p_value: float
    corrected_p_value: float
    bands: list[dict] = _json()
    targets: list[dict] = _json()
    raised_at: datetime = _moment(nullable=False)
    analysed_at: datetime = _moment(nullable=False)

    __table_args__ = (UniqueConstraint("component", "batch_code"),)
