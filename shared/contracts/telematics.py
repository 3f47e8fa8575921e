"""Events published by the telematics service on `cem.telematics.>`: derived facts, never one
event per raw sample. Profile projects behaviour into segments; journeys reads motion (no push
while driving) and quality alerts; tickets and journeys act on campaign targets."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel

from shared.contracts.privacy import (
    ErasureCompleted,
    OwnerDataExported,
    erasure_completed_type,
    owner_data_exported_type,
)
from shared.messaging.envelope import Event, EventType


class TripStarted(Event):
    event_type = EventType("telematics", "trip", "started")

    trip_id: uuid.UUID
    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    started_at: datetime


class TripCompleted(Event):
    event_type = EventType("telematics", "trip", "completed")

    trip_id: uuid.UUID
    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    started_at: datetime
    ended_at: datetime
    distance_km: float
    energy_kwh: float | None = None
    efficiency_wh_per_km: float | None = None
    harsh_accelerations: int = 0
    harsh_brakings: int = 0


class DrivingBehaviourUpdated(Event):
    """The rolling 30-day behaviour of one vehicle's driving, after each trip."""

    event_type = EventType("telematics", "behaviour", "updated")

    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    window_days: int = 30
    trips: int
    distance_km: float
    harsh_accelerations_per_100km: float
    harsh_brakings_per_100km: float
    overspeed_share: float
    night_share: float
    assisted_driving_share: float
    # In-car apps first used within the window.
    new_apps: list[str] = []
    # Destination category -> visits in the window (school, supermarket, office, ...).
    destination_categories: dict[str, int] = {}
    computed_at: datetime


class ChargingSessionCompleted(Event):
    event_type = EventType("telematics", "charging", "completed")

    session_id: uuid.UUID
    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    started_at: datetime
    ended_at: datetime
    start_soc: float
    end_soc: float
    energy_kwh: float
    peak_power_kw: float
    fast: bool
    cost: float
    currency: str = "CNY"


class DtcRaised(Event):
    event_type = EventType("telematics", "dtc", "raised")

    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    servicing_dealer_id: uuid.UUID | None = None
    code: str
    component: str | None = None
    mileage_km: float | None = None
    raised_at: datetime


class DtcCleared(Event):
    event_type = EventType("telematics", "dtc", "cleared")

    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    code: str
    cleared_at: datetime


class ServiceDuePredicted(Event):
    event_type = EventType("telematics", "service", "due_predicted")

    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    servicing_dealer_id: uuid.UUID | None = None
    due_date: date
    reason: str  # "mileage" or "time"
    mileage_km: float
    km_per_day: float
    predicted_at: datetime


class CampaignTarget(BaseModel):
    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    servicing_dealer_id: uuid.UUID | None = None
    mileage_km: float
    days_to_threshold: float


class QualityAlertRaised(Event):
    """A component batch fails in the field more than the fleet; `targets` are the vehicles to
    invite before they break down, most urgent first."""

    event_type = EventType("telematics", "quality_alert", "raised")

    alert_id: uuid.UUID
    component: str
    batch_code: str
    failures: int
    exposure_km: float
    rate_ratio: float
    rate_ratio_lower_bound: float
    p_value: float
    threshold_km: float
    targets: list[CampaignTarget] = []
    raised_at: datetime
    # The whole target list's length; `targets` carries at most the first 1,000 (the rest are
    # on the alert, `GET /v1/telematics/quality/alerts/{id}`).
    targets_total: int = 0
    # Two-sided interval of the rate ratio at the analysis' confidence (upper None: unbounded).
    rate_ratio_interval: list[float | None] = []


class TelematicsErasureCompleted(ErasureCompleted):
    event_type = erasure_completed_type("telematics")


class TelematicsOwnerDataExported(OwnerDataExported):
    event_type = owner_data_exported_type("telematics")
