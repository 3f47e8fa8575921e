"""Telematics' API models. Ingestion's request body is decoded by msgspec (`codec`), not here."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from services.telematics.domain import AnalysisSettings, QualitySettings
from shared.contracts.telematics import CampaignTarget
from shared.pagination import Page


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SampleProblem(BaseModel):
    index: int
    vin: str
    field: str
    message: str


class IngestionRead(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    problems: list[SampleProblem]


class VehicleStateRead(BaseModel):
    vehicle_id: uuid.UUID
    vin: str
    model: str
    mileage_km: float | None
    ts: datetime | None = None
    speed: float | None = None
    odometer_m: float | None = None
    soc: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_charging: bool | None = None
    gear: int | None = None


class TripRead(Read):
    id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    distance_km: float
    duration_seconds: float
    energy_kwh: float | None
    efficiency_wh_per_km: float | None
    harsh_accelerations: int
    harsh_brakings: int
    overspeed_share: float
    night_share: float
    assisted_share: float
    apps: list[str]
    destination: str | None


class ChargingSessionRead(Read):
    id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    start_soc: float
    end_soc: float
    energy_kwh: float
    peak_power_kw: float
    fast: bool
    cost: float
    currency: str
    latitude: float | None
    longitude: float | None


class FaultRead(BaseModel):
    vin: str
    code: str
    component: str | None
    mileage_km: float | None
    raised_at: datetime
    cleared_at: datetime | None
    service_due_date: date | None = None


class ServiceDueRead(Read):
    due_date: date
    reason: str
    mileage_km: float
    km_per_day: float
    predicted_at: datetime


class BandRead(BaseModel):
    from_km: float
    to_km: float
    exposure_km: float
    failures: int
    hazard_per_10000km: float
    hazard_interval: list[float | None]
    rest_exposure_km: float
    rest_failures: int
    rest_hazard_per_10000km: float
    rest_hazard_interval: list[float | None]


class QualityAlertSummary(Read):
    id: uuid.UUID
    component: str
    batch_code: str
    threshold_km: float
    failures: int
    exposure_km: float
    rate_ratio: float
    rate_ratio_lower_bound: float
    rate_ratio_interval: list[float | None]
    p_value: float
    corrected_p_value: float
    raised_at: datetime
    analysed_at: datetime


class QualityAlertRead(QualityAlertSummary):
    bands: list[BandRead]
    targets: list[CampaignTarget]


class QualityAnalysisRead(BaseModel):
    components: int
    batches_tested: int
    alerts_raised: int
    alerts: list[QualityAlertSummary]


VehiclePage = Page[VehicleStateRead]
TripPage = Page[TripRead]
ChargingSessionPage = Page[ChargingSessionRead]
FaultPage = Page[FaultRead]
QualityAlertPage = Page[QualityAlertSummary]
AnalysisSettingsBody = AnalysisSettings
QualitySettingsBody = QualitySettings


class VehicleExport(BaseModel):
    id: uuid.UUID
    vin: str
    model: str


class OwnerExport(BaseModel):
    """An owner's copy of what telematics holds that is theirs (profile gathers it)."""

    owner_id: uuid.UUID
    vehicles: list[VehicleExport]
    trips: list[TripRead]
    charging_sessions: list[ChargingSessionRead]
    faults: list[FaultRead]
