"""The derivation as a stream (pure, no fixtures): fed in pieces, with what is open carried
between them as stored state, it finds exactly what it finds in one go, whatever the length
of a trip; and where it goes back to when rows come late."""

from datetime import UTC, datetime, timedelta

import pytest

from services.telematics.domain import (
    AnalysisSettings,
    Closed,
    Point,
    Span,
    advance,
    close_silent,
    dump_state,
    load_state,
    rewind_start,
    segment_charging,
    segment_trips,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SETTINGS = AnalysisSettings()


def at(second: float) -> datetime:
    return T0 + timedelta(seconds=second)


def day_of_driving() -> list[Point]:
    """Two trips with a harsh episode each, a short stop inside the first, a charge between."""
    points: list[Point] = []
    odometer = 0.0
    for second in range(0, 4000):
        stopped = 1000 <= second < 1200 or 2000 <= second < 3000
        speed = 0.0 if stopped else 50.0
        odometer += speed / 3.6
        acceleration = 5.0 if second in (500, 501, 502, 3500, 3501) else 0.3
        charging = 2200 <= second < 2800
        points.append(
            Point(
                ts=at(second),
                speed=speed,
                odometer_m=odometer,
                acceleration=acceleration,
                consumed_kwh=second * 0.002,
                is_charging=charging if 2100 <= second < 2900 else None,
                battery_power_w=11_000.0 if charging else None,
                soc=40 + (second - 2200) / 60 if charging else None,
                active_app="music" if second > 3600 else None,
            )
        )
    return points


def in_pieces(points: list[Point], cuts: list[int], now: datetime) -> Closed:
    """Feeds the points piece by piece, storing and loading the state in between."""
    found = Closed()
    stored = None
    for start, end in zip([0, *cuts], [*cuts, len(points)], strict=True):
        state = load_state(stored)
        closed = advance(state, points[start:end], SETTINGS)
        found.trips += closed.trips
        found.sessions += closed.sessions
        stored = dump_state(state)
    closed = close_silent(load_state(stored), now)
    found.trips += closed.trips
    found.sessions += closed.sessions
    return found


# Cuts: inside the short stop, on a harsh episode, where the first trip's stop ends it,
# inside the charge, and at every 777th point.
@pytest.mark.parametrize(
    "cuts", [[1100], [501], [1299, 1300, 1301], [2500], list(range(777, 4000, 777))]
)
def test_fed_in_pieces_the_stream_finds_what_it_finds_in_one_go(cuts):
    points = day_of_driving()
    now = at(4000 + 3600)
    whole = in_pieces(points, [], now)
    pieces = in_pieces(points, cuts, now)
    facts = [run.tally.facts() for run in whole.trips]
    assert [run.tally.facts() for run in pieces.trips] == facts
    assert [run.tally.facts(SETTINGS) for run in pieces.sessions] == [
        run.tally.facts(SETTINGS) for run in whole.sessions
    ]
    # The first trip goes on through its 200 s stop and ends where it stopped at 2000 s.
    assert [(f.started_at, f.ended_at) for f in facts] == [(at(0), at(2000)), (at(3000), at(3999))]
    assert [(f.harsh_accelerations, f.apps) for f in facts] == [(1, []), (1, ["music"])]
    (session,) = whole.sessions
    assert session.tally.facts(SETTINGS).energy_kwh == pytest.approx(11 * 599 / 3600, abs=1e-3)


def test_a_trip_of_a_day_and_a_half_fed_an_hour_at_a_time_is_one_trip():
    hours = 36
    points = [
        Point(ts=at(second), speed=72.0, odometer_m=second * 20.0, consumed_kwh=second * 0.004)
        for second in range(0, hours * 3600, 10)
    ]
    per_hour = 360
    found = in_pieces(points, list(range(per_hour, len(points), per_hour)), at(hours * 7200))
    (trip,) = [run.tally.facts() for run in found.trips]
    assert trip.points == len(points)
    assert trip.distance_km == pytest.approx(points[-1].odometer_m / 1000)
    assert trip.duration_seconds == hours * 3600 - 10
    assert trip.efficiency_wh_per_km == pytest.approx(200.0)


def test_open_runs_stay_in_the_state_until_silence_closes_them():
    points = day_of_driving()[:2500]  # driving, then charging still under way
    state = load_state(None)
    advance(state, points, SETTINGS)
    assert [run.started_at for run in state.open_runs()] == [at(2200)]
    assert close_silent(state, at(2499 + 3599)).sessions == []
    (session,) = close_silent(state, at(2499 + 3600)).sessions
    assert session.ended_at == at(2499)
    assert [run.closed for run in segment_charging(points, at(2500))] == [False]
    assert [run.closed for run in segment_trips(points, at(2500))] == [True]


TRIP = Span(at(0), at(1800), trip=True)
LATER_TRIP = Span(at(1800 + 1200), at(6000), trip=True)
CHARGE = Span(at(2500), at(5000), trip=False)


@pytest.mark.parametrize(
    ("late", "spans", "back_to"),
    [
        (at(900), [TRIP], at(0)),  # inside a trip: from its start
        (at(1800 + 3000), [TRIP], at(0)),  # within an hour after it: it may go on
        (at(1800 + 3601), [TRIP], at(1800 + 3601)),  # over an hour after: on its own
        (at(-10), [TRIP], at(-10)),  # before it
        # Inside the later trip: back to its start only (the one before had ended by then).
        (at(4000), [TRIP, LATER_TRIP], at(3000)),
        # A charge under way when the trip began: back to the charge's start too.
        (at(5500), [LATER_TRIP, CHARGE], at(2500)),
    ],
)
def test_late_rows_send_the_derivation_back_to_where_nothing_was_open(late, spans, back_to):
    moment, quiet = late, frozenset()
    while (earlier := rewind_start(moment, spans, quiet)) is not None:
        moment, quiet = earlier
    assert moment == back_to


def test_silence_counts_from_when_the_stream_was_last_fed():
    """A backlog from days ago, sent in several batches, is not closed between two of them."""
    state = load_state(None)
    advance(state, day_of_driving()[3000:3200], SETTINGS)
    fed = at(10 * 86_400)
    state.fed_at = fed
    assert state.closes_at() == fed + timedelta(hours=1)
    assert close_silent(state, fed + timedelta(seconds=3599)).trips == []
    (trip,) = close_silent(state, fed + timedelta(hours=1)).trips
    assert trip.ended_at == at(3199)
