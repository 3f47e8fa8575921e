"""The derivation as a stream: a vehicle's points are fed in order, each once, and closed
trips and charging sessions come out. What is still open between two passes is a small
state (tallies, not points), so a trip of any length costs the same per point and no row
is read twice.

Trips run from the first moving point until 300 s parked (ending where it stopped) or a
3,600 s gap without data (ending at its last point); a trip that falls silent for 3,600 s
closes. Charging sessions are runs of points reporting IsCharging, ended by a point that is
not charging or a 3,600 s gap. Silence counts from the last point, and from when the stream
was last fed: a backlog sent in several batches is not closed between two of them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter

from services.telematics.domain.charging import ChargingTally
from services.telematics.domain.points import (
    GAP,
    PARKED,
    Point,
    Run,
)
from services.telematics.domain.settings import AnalysisSettings
from services.telematics.domain.trips import TripRules, TripTally


@dataclass(slots=True)
class OpenTrip:
    """`kept`: the trip up to where it stopped (or its last point while moving); `parked`:
    the points since it stopped, part of the trip only if it moves again within 300 s."""

    kept: TripTally
    stopped_at: datetime | None = None
    parked: TripTally | None = None

    @property
    def last_at(self) -> datetime:
        last = self.parked if self.parked is not None and self.parked.points else self.kept
        assert last.ended_at is not None
        return last.ended_at


@dataclass(slots=True)
class StreamState:
    """What one vehicle's derivation carries from one pass to the next."""

    last_at: datetime | None = None
    trip: OpenTrip | None = None
    charging: ChargingTally | None = None
    # When points were last fed (the pass's time, not theirs).
    fed_at: datetime | None = None

    def open_since(self) -> datetime | None:
        """When the earliest open trip or session began, if any is open."""
        starts = [run.started_at for run in self.open_runs()]
        return min(starts, default=None)

    def closes_at(self) -> datetime | None:
        """When silence would close the first open run, if any is open."""
        ends = [run.ended_at for run in self.open_runs()]
        if not ends:
            return None
        return max(min(ends), self.fed_at or min(ends)) + GAP

    def open_runs(self) -> list[Run]:
        runs: list[Run] = []
        if self.trip is not None:
            kept = self.trip.kept
            runs.append(Run(kept, kept.started_at, self.trip.last_at, closed=False))
        if self.charging is not None:
            charging = self.charging
            runs.append(Run(charging, charging.started_at, charging.ended_at, closed=False))
        return runs


_STATE = TypeAdapter(StreamState)


def dump_state(state: StreamState) -> dict:
    return _STATE.dump_python(state, mode="json")


def load_state(stored: dict | None) -> StreamState:
    return _STATE.validate_python(stored) if stored else StreamState()


@dataclass
class Closed:
    """Trips and charging sessions that can no longer grow, in the order they closed."""

    trips: list[Run[TripTally]] = field(default_factory=list)
    sessions: list[Run[ChargingTally]] = field(default_factory=list)


def _close_trip(state: StreamState, closed: Closed) -> None:
    assert state.trip is not None
    kept = state.trip.kept
    closed.trips.append(Run(kept, kept.started_at, kept.ended_at, closed=True))
    state.trip = None


def _close_charging(state: StreamState, closed: Closed) -> None:
    assert state.charging is not None
    session = state.charging
    closed.sessions.append(Run(session, session.started_at, session.ended_at, closed=True))
    state.charging = None


def _trip_point(state: StreamState, point: Point, rules: TripRules, closed: Closed) -> None:
    trip = state.trip
    moving = point.moving
    if trip is not None and state.last_at is not None and point.ts - state.last_at >= GAP:
        _close_trip(state, closed)
        trip = None
    if trip is None:
        if moving:
            state.trip = OpenTrip(TripTally())
            state.trip.kept.add(point, rules)
        return
    if moving:
        if trip.parked is not None:
            trip.kept.extend(trip.parked)
            trip.stopped_at = trip.parked = None
        trip.kept.add(point, rules)
    elif trip.stopped_at is None:
        trip.kept.add(point, rules)  # where it stopped: the trip's end, should it stay parked
        trip.stopped_at = point.ts
        trip.parked = trip.kept.carried_on()
    elif point.ts - trip.stopped_at >= PARKED:
        _close_trip(state, closed)
    else:
        assert trip.parked is not None
        trip.parked.add(point, rules)


def _charging_point(state: StreamState, point: Point, closed: Closed) -> None:
    session = state.charging
    if session is not None and session.ended_at is not None:
        if point.is_charging is False or point.ts - session.ended_at >= GAP:
            _close_charging(state, closed)
    if point.is_charging:
        if state.charging is None:
            state.charging = ChargingTally()
        state.charging.add(point)


def advance(state: StreamState, points: Iterable[Point], settings: AnalysisSettings) -> Closed:
    """Feeds points (oldest first, each after the state's last) into the state."""
    rules = TripRules(settings)
    closed = Closed()
    for point in points:
        _trip_point(state, point, rules, closed)
        if point.is_charging or state.charging is not None:  # else it would change nothing
            _charging_point(state, point, closed)
        state.last_at = point.ts
    return closed


def close_silent(state: StreamState, now: datetime) -> Closed:
    """Closes what has had no data for 3,600 s by `now`: a trip ends where it stopped, if it
    did, else at its last point; a session at its last charging point."""
    closed = Closed()
    if state.fed_at is not None and now - state.fed_at < GAP:
        return closed
    if state.trip is not None and now - state.trip.last_at >= GAP:
        _close_trip(state, closed)
    charging = state.charging
    if charging is not None and charging.ended_at is not None:
        if now - charging.ended_at >= GAP:
            _close_charging(state, closed)
    return closed


def segment_trips(
    points: Sequence[Point], now: datetime, settings: AnalysisSettings | None = None
) -> list[Run[TripTally]]:
    """Every trip in `points`, the last one open while it could still go on."""
    state = StreamState()
    closed = advance(state, points, settings or AnalysisSettings())
    closed.trips.extend(close_silent(state, now).trips)
    open_trip = [run for run in state.open_runs() if isinstance(run.tally, TripTally)]
    return [*closed.trips, *open_trip]


def segment_charging(points: Sequence[Point], now: datetime) -> list[Run[ChargingTally]]:
    """Every charging session in `points`, the last one open while it could still go on."""
    state = StreamState()
    closed = advance(state, points, AnalysisSettings())
    closed.sessions.extend(close_silent(state, now).sessions)
    open_session = [run for run in state.open_runs() if isinstance(run.tally, ChargingTally)]
    return [*closed.sessions, *open_session]
