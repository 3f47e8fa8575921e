"""One vehicle's wide rows as the derivation sees them, and runs of them (trips, charging
sessions). Points are one row per second at most, oldest first."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, NamedTuple, TypeVar

MOVING_KMH = 0.5
PARKED_SECONDS = 300
GAP_SECONDS = 3600
MIN_TRIP_METRES = 10.0
# The same as durations: a point's time minus another's compares with them directly.
PARKED = timedelta(seconds=PARKED_SECONDS)
GAP = timedelta(seconds=GAP_SECONDS)


class Point(NamedTuple):
    """A tuple, not a dataclass: the derivation builds one per row (fields in column order)."""

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


Tally = TypeVar("Tally")


@dataclass(frozen=True)
class Run(Generic[Tally]):
    """A trip or a charging session: its tally of facts so far; `closed` once it cannot grow.
    An open run's `ended_at` is its last point (a trip's may be a stop that is not over yet)."""

    tally: Tally
    started_at: datetime
    ended_at: datetime
    closed: bool


def seconds_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds()


def first_or(known: float | None, value: float | None) -> float | None:
    """A counter's first reading: the one known already, else this one."""
    return known if known is not None else value


def increase(first: float | None, last: float | None, readings: int) -> float | None:
    """A counter's increase from its first reading to its last, given two at least."""
    return last - first if readings >= 2 and first is not None and last is not None else None
