"""Trips' facts, kept point by point in constant space (a trip may last days), and driving
behaviour over a rolling window."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from services.telematics.domain.points import MIN_TRIP_METRES, Point, first_or, increase
from services.telematics.domain.settings import AnalysisSettings


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


class TripRules:
    """The settings a trip's points are judged by, looked up once per pass."""

    def __init__(self, settings: AnalysisSettings) -> None:
        self.harsh_acceleration = settings.harsh_acceleration_ms2
        self.harsh_braking = -settings.harsh_braking_ms2
        self.overspeed_kmh = settings.overspeed_kmh
        self.zone = ZoneInfo(settings.time_zone)
        start, end = settings.night_start_hour, settings.night_end_hour
        # Night may span midnight (22 to 6) or not (0 to 5).
        wraps = start > end
        self.night_hours = frozenset(
            hour
            for hour in range(24)
            if ((start <= hour or hour < end) if wraps else start <= hour < end)
        )
        self._minute: float | None = None  # the UTC minute last looked at, and its answer
        self._night = False

    def is_night(self, moment: datetime) -> bool:
        """Points come a second apart, in order: the local hour is worked out once a minute
        (zone offsets are whole minutes), not once a point."""
        minute = moment.timestamp() // 60
        if minute != self._minute:
            self._minute = minute
            self._night = moment.astimezone(self.zone).hour in self.night_hours
        return self._night


def is_night(moment: datetime, settings: AnalysisSettings) -> bool:
    return TripRules(settings).is_night(moment)


@dataclass(slots=True)
class TripTally:
    """What a trip's facts need of its points. Harsh events are counted per episode (one
    lasts several samples), so the tally remembers whether the last reading was harsh."""

    started_at: datetime | None = None
    ended_at: datetime | None = None
    points: int = 0
    first_odometer_m: float | None = None
    last_odometer_m: float | None = None
    odometer_readings: int = 0
    first_consumed_kwh: float | None = None
    last_consumed_kwh: float | None = None
    consumed_readings: int = 0
    harsh_accelerations: int = 0
    harsh_brakings: int = 0
    accelerating: bool = False
    braking: bool = False
    overspeed: int = 0
    night: int = 0
    assisted: int = 0
    apps: list[str] = field(default_factory=list)
    destination: str | None = None

    def add(self, point: Point, rules: TripRules) -> None:
        if self.started_at is None:
            self.started_at = point.ts
        self.ended_at = point.ts
        self.points += 1
        if (odometer := point.odometer_m) is not None:
            if self.first_odometer_m is None:
                self.first_odometer_m = odometer
            self.last_odometer_m = odometer
            self.odometer_readings += 1
        if (consumed := point.consumed_kwh) is not None:
            if self.first_consumed_kwh is None:
                self.first_consumed_kwh = consumed
            self.last_consumed_kwh = consumed
            self.consumed_readings += 1
        if (acceleration := point.acceleration) is not None:
            accelerating = acceleration >= rules.harsh_acceleration
            braking = acceleration <= rules.harsh_braking
            self.harsh_accelerations += accelerating and not self.accelerating
            self.harsh_brakings += braking and not self.braking
            self.accelerating, self.braking = accelerating, braking
        self.overspeed += (point.speed or 0) > rules.overspeed_kmh
        self.night += rules.is_night(point.ts)
        self.assisted += bool(point.assisted)
        if point.active_app and point.active_app not in self.apps:
            self.apps.append(point.active_app)
        if point.destination:
            self.destination = point.destination

    def carried_on(self) -> "TripTally":
        """An empty tally that goes on from this one: a harsh episode under way continues."""
        return TripTally(accelerating=self.accelerating, braking=self.braking)

    def extend(self, later: "TripTally") -> None:
        """Adds the tally of the points that followed (made by `carried_on`)."""
        if later.points == 0:
            return
        self.started_at = self.started_at or later.started_at
        self.ended_at = later.ended_at
        self.points += later.points
        self.first_odometer_m = first_or(self.first_odometer_m, later.first_odometer_m)
        self.last_odometer_m = first_or(later.last_odometer_m, self.last_odometer_m)
        self.odometer_readings += later.odometer_readings
        self.first_consumed_kwh = first_or(self.first_consumed_kwh, later.first_consumed_kwh)
        self.last_consumed_kwh = first_or(later.last_consumed_kwh, self.last_consumed_kwh)
        self.consumed_readings += later.consumed_readings
        self.harsh_accelerations += later.harsh_accelerations
        self.harsh_brakings += later.harsh_brakings
        self.accelerating, self.braking = later.accelerating, later.braking
        self.overspeed += later.overspeed
        self.night += later.night
        self.assisted += later.assisted
        self.apps.extend(app for app in later.apps if app not in self.apps)
        self.destination = later.destination or self.destination

    def facts(self) -> TripFacts | None:
        """None for a trip too short to count (under 10 m, or fewer than 2 points)."""
        distance_m = increase(self.first_odometer_m, self.last_odometer_m, self.odometer_readings)
        if self.points < 2 or distance_m is None or distance_m < MIN_TRIP_METRES:
            return None
        assert self.started_at is not None and self.ended_at is not None
        distance_km = distance_m / 1000
        energy = increase(self.first_consumed_kwh, self.last_consumed_kwh, self.consumed_readings)
        return TripFacts(
            started_at=self.started_at,
            ended_at=self.ended_at,
            points=self.points,
            distance_km=round(distance_km, 3),
            duration_seconds=(self.ended_at - self.started_at).total_seconds(),
            energy_kwh=round(energy, 3) if energy is not None else None,
            efficiency_wh_per_km=(
                round(energy * 1000 / distance_km, 1) if energy is not None else None
            ),
            harsh_accelerations=self.harsh_accelerations,
            harsh_brakings=self.harsh_brakings,
            overspeed_share=round(self.overspeed / self.points, 4),
            night_share=round(self.night / self.points, 4),
            assisted_share=round(self.assisted / self.points, 4),
            apps=sorted(self.apps),
            destination=self.destination,
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
