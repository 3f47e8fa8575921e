"""Trips from a vehicle's points, their facts, and driving behaviour over a rolling window."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from services.telematics.domain.points import (
    GAP_SECONDS,
    MIN_TRIP_METRES,
    PARKED_SECONDS,
    Point,
    Segment,
)
from services.telematics.domain.points import delta as _delta
from services.telematics.domain.points import gap as _gap
from services.telematics.domain.settings import AnalysisSettings


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
