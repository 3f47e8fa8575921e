"""Pure rules of telematics: configuration, trips, driving behaviour, charging sessions,
fault codes, service due dates and campaign targets. No framework, no database.

Points are one vehicle's wide rows (one per second at most), oldest first.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Configuration (data, changed through the API)


class Tariff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_per_kwh: float = Field(1.2, ge=0, le=100)
    fast_price_per_kwh: float = Field(1.8, ge=0, le=100)
    session_fee: float = Field(0.0, ge=0, le=1000)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")


class AnalysisSettings(BaseModel):
    """How raw signals become facts; readable by anyone on staff, changed by admins."""

    model_config = ConfigDict(extra="forbid")

    harsh_acceleration_ms2: float = Field(4.4, gt=0, le=20)
    harsh_braking_ms2: float = Field(4.4, gt=0, le=20)
    overspeed_kmh: float = Field(120.0, gt=0, le=400)
    night_start_hour: int = Field(22, ge=0, le=23)
    night_end_hour: int = Field(6, ge=0, le=23)
    time_zone: str = "Asia/Shanghai"
    fast_charging_kw: float = Field(50.0, gt=0, le=1000)
    tariff: Tariff = Tariff()
    service_interval_km: float = Field(20_000.0, gt=0, le=200_000)
    service_interval_days: int = Field(365, gt=0, le=3650)
    # Fault code (or its prefix) -> the component it points at.
    dtc_components: dict[str, str] = {
        "P0480": "cooling_fan_controller",
        "P0481": "cooling_fan_controller",
        "P0A80": "traction_battery",
        "B1000": "smart_key_module",
        "C0035": "wheel_speed_sensor",
    }

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as error:
            raise ValueError("unknown time zone") from error
        return value

    def component_of(self, code: str) -> str | None:
        """The longest matching code prefix wins (P0480 before P04)."""
        for length in range(len(code), 0, -1):
            if component := self.dtc_components.get(code[:length]):
                return component
        return None


class QualitySettings(BaseModel):
    """The early-warning rule and the campaign selection; changed by quality engineers."""

    model_config = ConfigDict(extra="forbid")

    band_km: float = Field(2_500.0, gt=0, le=100_000)
    min_failures: int = Field(3, ge=1, le=10_000)
    min_rate_ratio_lower_bound: float = Field(2.0, gt=0, le=1000)
    max_corrected_p_value: float = Field(0.01, gt=0, lt=1)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    # Vehicles within this many km below the threshold, or reaching it within the lead time.
    target_margin_km: float = Field(2_500.0, ge=0, le=100_000)
    target_lead_days: int = Field(60, ge=0, le=3650)


# Trips and behaviour


@dataclass(frozen=True)
class Point:
    ts: datetime
    speed: float | None = None
    odometer_m: float | None = None
    soc: float | None = None
    acceleration: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    dtcs: list[str] | None = None
    is_charging: bool | None = None
    battery_power_w: float | None = None
    charged_kwh: float | None = None
    consumed_kwh: float | None = None
    gear: int | None = None
    assisted: bool | None = None
    active_app: str | None = None
    destination: str | None = None

    @property
    def moving(self) -> bool:
        return self.speed is not None and self.speed > MOVING_KMH


MOVING_KMH = 0.5
PARKED_SECONDS = 300
GAP_SECONDS = 3600
MIN_TRIP_METRES = 10.0


@dataclass(frozen=True)
class Segment:
    """A run of points (a trip or a charging session); `closed` when it can no longer grow."""

    points: Sequence[Point]
    closed: bool

    @property
    def started_at(self) -> datetime:
        return self.points[0].ts

    @property
    def ended_at(self) -> datetime:
        return self.points[-1].ts


def _gap(earlier: Point, later: Point) -> float:
    return (later.ts - earlier.ts).total_seconds()


def segment_trips(points: Sequence[Point], now: datetime) -> list[Segment]:
    """Trips: from the first moving point until 300 s parked (ending where it stopped) or a
    3,600 s gap without data (ending at the last point). The last trip stays open while it
    could still go on."""
    trips: list[Segment] = []
    start: int | None = None
    stopped_at: int | None = None
    for index, point in enumerate(points):
        if start is not None and _gap(points[index - 1], point) >= GAP_SECONDS:
            trips.append(Segment(points[start : (stopped_at or index - 1) + 1], closed=True))
            start = stopped_at = None
        if start is None:
            start = index if point.moving else None
            continue
        if point.moving:
            stopped_at = None
        elif stopped_at is None:
            stopped_at = index
        elif _gap(points[stopped_at], point) >= PARKED_SECONDS:
            trips.append(Segment(points[start : stopped_at + 1], closed=True))
            start = stopped_at = None
    if start is not None:
        silent = (now - points[-1].ts).total_seconds() >= GAP_SECONDS
        end = stopped_at if stopped_at is not None else len(points) - 1
        trips.append(Segment(points[start : end + 1] if silent else points[start:], silent))
    return trips


@dataclass(frozen=True)
class TripFacts:
    started_at: datetime
    ended_at: datetime
    points: int
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


def _delta(values: list[float]) -> float | None:
    return values[-1] - values[0] if len(values) >= 2 else None


def _runs(flags: list[bool]) -> int:
    """How many separate runs of True: one harsh event lasts several samples."""
    return sum(1 for i, flag in enumerate(flags) if flag and (i == 0 or not flags[i - 1]))


def _share(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def is_night(moment: datetime, settings: AnalysisSettings) -> bool:
    hour = moment.astimezone(ZoneInfo(settings.time_zone)).hour
    start, end = settings.night_start_hour, settings.night_end_hour
    return start <= hour or hour < end if start > end else start <= hour < end


def trip_facts(trip: Segment, settings: AnalysisSettings) -> TripFacts | None:
    """The trip's facts, or None for a trip too short to count (under 10 m or 2 points)."""
    points = trip.points
    odometer = [p.odometer_m for p in points if p.odometer_m is not None]
    distance_m = _delta(odometer)
    if len(points) < 2 or distance_m is None or distance_m < MIN_TRIP_METRES:
        return None
    distance_km = distance_m / 1000
    energy = _delta([p.consumed_kwh for p in points if p.consumed_kwh is not None])
    accelerations = [p.acceleration for p in points if p.acceleration is not None]
    return TripFacts(
        started_at=trip.started_at,
        ended_at=trip.ended_at,
        points=len(points),
        distance_km=round(distance_km, 3),
        duration_seconds=(trip.ended_at - trip.started_at).total_seconds(),
        energy_kwh=round(energy, 3) if energy is not None else None,
        efficiency_wh_per_km=round(energy * 1000 / distance_km, 1) if energy is not None else None,
        harsh_accelerations=_runs([a >= settings.harsh_acceleration_ms2 for a in accelerations]),
        harsh_brakings=_runs([a <= -settings.harsh_braking_ms2 for a in accelerations]),
        overspeed_share=_share([(p.speed or 0) > settings.overspeed_kmh for p in points]),
        night_share=_share([is_night(p.ts, settings) for p in points]),
        assisted_share=_share([bool(p.assisted) for p in points]),
        apps=sorted({p.active_app for p in points if p.active_app}),
        destination=next((p.destination for p in reversed(points) if p.destination), None),
    )


@dataclass(frozen=True)
class TripSummary:
    """What the rolling behaviour window needs of one trip."""

    distance_km: float
    duration_seconds: float
    harsh_accelerations: int
    harsh_brakings: int
    overspeed_share: float
    night_share: float
    assisted_share: float
    destination: str | None


@dataclass(frozen=True)
class Behaviour:
    trips: int
    distance_km: float
    harsh_accelerations_per_100km: float
    harsh_brakings_per_100km: float
    overspeed_share: float
    night_share: float
    assisted_share: float
    destination_categories: dict[str, int] = field(default_factory=dict)


def rolling_behaviour(trips: Sequence[TripSummary]) -> Behaviour:
    """Counts per 100 km; shares weighted by each trip's duration."""
    distance = sum(t.distance_km for t in trips)
    duration = sum(t.duration_seconds for t in trips)

    def per_100km(count: int) -> float:
        return round(count * 100 / distance, 3) if distance else 0.0

    def weighted(share_of) -> float:
        return (
            round(sum(share_of(t) * t.duration_seconds for t in trips) / duration, 4)
            if (duration)
            else 0.0
        )

    destinations: dict[str, int] = {}
    for trip in trips:
        if trip.destination:
            destinations[trip.destination] = destinations.get(trip.destination, 0) + 1
    return Behaviour(
        trips=len(trips),
        distance_km=round(distance, 3),
        harsh_accelerations_per_100km=per_100km(sum(t.harsh_accelerations for t in trips)),
        harsh_brakings_per_100km=per_100km(sum(t.harsh_brakings for t in trips)),
        overspeed_share=weighted(lambda t: t.overspeed_share),
        night_share=weighted(lambda t: t.night_share),
        assisted_share=weighted(lambda t: t.assisted_share),
        destination_categories=destinations,
    )


# Charging


def segment_charging(points: Sequence[Point], now: datetime) -> list[Segment]:
    """Sessions: runs of points reporting IsCharging, ended by a point that is not charging or
    by a 3,600 s gap; the last one stays open while it could still go on."""
    sessions: list[Segment] = []
    run: list[Point] = []
    for point in points:
        if run and (_gap(run[-1], point) >= GAP_SECONDS or point.is_charging is False):
            sessions.append(Segment(run, closed=True))
            run = []
        if point.is_charging:
            run.append(point)
    if run:
        sessions.append(Segment(run, closed=(now - run[-1].ts).total_seconds() >= GAP_SECONDS))
    return sessions


@dataclass(frozen=True)
class ChargingFacts:
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


def _integrated_kwh(points: Sequence[Point]) -> float:
    """Energy from the power samples (trapezoids), when the battery reports no counter."""
    total = 0.0
    for earlier, later in pairwise(points):
        if earlier.battery_power_w is not None and later.battery_power_w is not None:
            mean_w = (earlier.battery_power_w + later.battery_power_w) / 2
            total += max(mean_w, 0.0) * _gap(earlier, later) / 3_600_000
    return total


def charging_cost(energy_kwh: float, fast: bool, tariff: Tariff) -> float:
    price = tariff.fast_price_per_kwh if fast else tariff.price_per_kwh
    return round(energy_kwh * price + tariff.session_fee, 2)


def charging_facts(session: Segment, settings: AnalysisSettings) -> ChargingFacts | None:
    points = session.points
    socs = [p.soc for p in points if p.soc is not None]
    if len(points) < 2 or not socs:
        return None
    counter = _delta([p.charged_kwh for p in points if p.charged_kwh is not None])
    energy = counter if counter is not None else _integrated_kwh(points)
    powers = [p.battery_power_w for p in points if p.battery_power_w is not None]
    peak_kw = max(powers, default=0.0) / 1000
    fast = peak_kw >= settings.fast_charging_kw
    located = next((p for p in points if p.latitude is not None), None)
    return ChargingFacts(
        started_at=session.started_at,
        ended_at=session.ended_at,
        start_soc=socs[0],
        end_soc=socs[-1],
        energy_kwh=round(energy, 3),
        peak_power_kw=round(peak_kw, 2),
        fast=fast,
        cost=charging_cost(energy, fast, settings.tariff),
        currency=settings.tariff.currency,
        latitude=located.latitude if located else None,
        longitude=located.longitude if located else None,
    )


# Fault codes


@dataclass(frozen=True)
class FaultChange:
    code: str
    raised: bool  # False: cleared
    at: datetime
    mileage_km: float | None


def fault_changes(points: Sequence[Point], active: set[str]) -> list[FaultChange]:
    """Each report of the active code list against the codes active before it."""
    changes: list[FaultChange] = []
    active = set(active)
    mileage: float | None = None
    for point in points:
        if point.odometer_m is not None:
            mileage = point.odometer_m / 1000
        if point.dtcs is None:
            continue
        reported = set(point.dtcs)
        for code in sorted(reported - active):
            changes.append(FaultChange(code, True, point.ts, mileage))
        for code in sorted(active - reported):
            changes.append(FaultChange(code, False, point.ts, mileage))
        active = reported
    return changes


# Service due and campaign targets


class DueReason(StrEnum):
    MILEAGE = "mileage"
    TIME = "time"


@dataclass(frozen=True)
class ServiceDue:
    due_date: date
    reason: DueReason


def service_due(
    *,
    today: date,
    mileage_km: float,
    km_per_day: float,
    last_service_date: date,
    last_service_km: float,
    settings: AnalysisSettings,
) -> ServiceDue:
    """The earlier of the time rule and the mileage rule at the vehicle's own pace."""
    by_time = last_service_date + timedelta(days=settings.service_interval_days)
    remaining_km = last_service_km + settings.service_interval_km - mileage_km
    if km_per_day <= 0:
        return ServiceDue(by_time, DueReason.TIME)
    days = max(math.ceil(remaining_km / km_per_day), 0)
    by_mileage = today + timedelta(days=min(days, 3650))
    if by_mileage < by_time:
        return ServiceDue(by_mileage, DueReason.MILEAGE)
    return ServiceDue(by_time, DueReason.TIME)


@dataclass(frozen=True)
class Candidate:
    """A vehicle still carrying the suspect part."""

    key: object
    mileage_km: float
    km_per_day: float


# Days reported for a vehicle that is not moving at all (last in line, never "infinite").
NEVER_DAYS = 3650.0


def days_to_threshold(candidate: Candidate, threshold_km: float) -> float:
    """Negative once past the threshold (the further past, the more urgent)."""
    remaining = threshold_km - candidate.mileage_km
    if remaining <= 0:
        return round(remaining / max(candidate.km_per_day, 1.0), 1)
    if candidate.km_per_day <= 0:
        return NEVER_DAYS
    return min(round(remaining / candidate.km_per_day, 1), NEVER_DAYS)


def campaign_targets(
    candidates: Sequence[Candidate], threshold_km: float, settings: QualitySettings
) -> list[tuple[Candidate, float]]:
    """Past the threshold, within the margin below it, or reaching it within the lead time;
    most urgent first."""
    chosen = []
    for candidate in candidates:
        days = days_to_threshold(candidate, threshold_km)
        within_margin = candidate.mileage_km >= threshold_km - settings.target_margin_km
        if within_margin or days <= settings.target_lead_days:
            chosen.append((candidate, days))
    return sorted(chosen, key=lambda pair: pair[1])
