"""One vehicle's wide rows as the derivation sees them, and runs of them (trips, charging
sessions). Points are one row per second at most, oldest first."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

MOVING_KMH = 0.5
PARKED_SECONDS = 300
GAP_SECONDS = 3600
MIN_TRIP_METRES = 10.0


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


def gap(earlier: Point, later: Point) -> float:
    return (later.ts - earlier.ts).total_seconds()


def delta(values: list[float]) -> float | None:
    """From the first value to the last (a counter's increase), given two at least."""
    return values[-1] - values[0] if len(values) >= 2 else None
