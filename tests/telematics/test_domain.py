"""Trips, harsh events, charging, faults, service due and campaign targets on synthetic data
with known answers (pure functions, no fixtures)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.telematics.domain import (
    AnalysisSettings,
    Candidate,
    Point,
    QualitySettings,
    Tariff,
    TripSummary,
    campaign_targets,
    fault_changes,
    rolling_behaviour,
    segment_charging,
    segment_trips,
    service_due,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SETTINGS = AnalysisSettings()


def at(second: float) -> datetime:
    return T0 + timedelta(seconds=second)


def driving(start: int, seconds: int, *, speed=36.0, odometer=0.0, **signals) -> list[Point]:
    return [
        Point(ts=at(start + s), speed=speed, odometer_m=odometer + speed / 3.6 * s, **signals)
        for s in range(seconds)
    ]


def standing(start: int, seconds: int, *, odometer: float, step: int = 10) -> list[Point]:
    return [
        Point(ts=at(start + s), speed=0.0, odometer_m=odometer) for s in range(0, seconds, step)
    ]


def test_a_trip_ends_after_300_seconds_parked():
    points = [*driving(0, 600), *standing(600, 400, odometer=6000.0), *driving(1000, 60)]
    trips = segment_trips(points, now=at(1060))
    assert [(t.closed, t.started_at, t.ended_at) for t in trips] == [
        (True, at(0), at(600)),
        (False, at(1000), at(1059)),
    ]
    facts = trips[0].tally.facts()
    assert facts.distance_km == pytest.approx(6.0)  # 600 s at 10 m/s, to where it stopped
    assert facts.duration_seconds == 600


def test_a_stop_shorter_than_300_seconds_does_not_end_the_trip():
    points = [
        *driving(0, 100),
        *standing(100, 200, odometer=1000.0),
        *driving(300, 100, odometer=1000),
    ]
    (trip,) = segment_trips(points, now=at(400))
    assert not trip.closed and trip.started_at == at(0)


def test_a_one_hour_gap_ends_a_trip_and_silence_closes_the_last():
    points = [*driving(0, 60), *driving(60 + 3600, 60, odometer=600)]
    trips = segment_trips(points, now=at(60 + 3600 + 60 + 3600))
    assert [(t.started_at, t.ended_at, t.closed) for t in trips] == [
        (at(0), at(59), True),
        (at(3660), at(3719), True),
    ]


def test_short_trips_are_dropped():
    creeping = driving(0, 5, speed=3.6)  # 4 m
    (trip,) = segment_trips([*creeping, *standing(5, 400, odometer=4)], now=at(500))
    assert trip.tally.facts() is None
    (single,) = segment_trips([Point(ts=at(0), speed=50.0, odometer_m=0.0)], now=at(99999))
    assert single.tally.facts() is None


def test_harsh_events_are_counted_once_per_episode():
    accelerations = [0, 5, 5.2, 0, 0, -4.5, -6, -6, 0, 4.4, 0, 4.3, -4.39]
    points = [
        Point(ts=at(i), speed=40.0, odometer_m=i * 11.0, acceleration=a)
        for i, a in enumerate(accelerations)
    ]
    facts = segment_trips(points, now=at(9999))[0].tally.facts()
    assert (facts.harsh_accelerations, facts.harsh_brakings) == (2, 1)
    settings = AnalysisSettings(harsh_acceleration_ms2=5.5, harsh_braking_ms2=7)
    gentle = segment_trips(points, now=at(9999), settings=settings)[0].tally.facts()
    assert (gentle.harsh_accelerations, gentle.harsh_brakings) == (0, 0)


def test_trip_behaviour_shares_energy_and_destination():
    points = driving(0, 100, speed=130.0, assisted=True, active_app="music")
    points += driving(100, 100, speed=60.0, odometer=points[-1].odometer_m, destination="school")
    points = [p._replace(consumed_kwh=100 + i * 0.01) for i, p in enumerate(points)]
    facts = segment_trips(points, now=at(99999))[0].tally.facts()
    assert facts.overspeed_share == 0.5 and facts.assisted_share == 0.5
    assert facts.night_share == 0.0
    assert facts.apps == ["music"] and facts.destination == "school"
    assert facts.energy_kwh == pytest.approx(1.99)
    assert facts.efficiency_wh_per_km == pytest.approx(1990 / facts.distance_km, rel=1e-3)


def test_night_is_judged_in_the_configured_time_zone():
    night = [Point(ts=at(15 * 3600 + i), speed=50.0, odometer_m=i * 14.0) for i in range(10)]
    facts = segment_trips(night, now=at(99999))[0].tally.facts()  # 23:00 in Shanghai
    assert facts.night_share == 1.0
    utc = AnalysisSettings(time_zone="UTC")
    assert segment_trips(night, now=at(99999), settings=utc)[0].tally.facts().night_share == 0.0


def test_rolling_behaviour_weights_shares_by_duration():
    trips = [
        TripSummary(50, 3600, 2, 1, 0.5, 0.0, 1.0, "school"),
        TripSummary(50, 1200, 0, 1, 0.0, 1.0, 0.0, "school"),
    ]
    behaviour = rolling_behaviour(trips)
    assert behaviour.harsh_accelerations_per_100km == 2.0
    assert behaviour.harsh_brakings_per_100km == 2.0
    assert behaviour.assisted_share == 0.75 and behaviour.night_share == 0.25
    assert behaviour.destination_categories == {"school": 2}


def charging(start: int, seconds: int, *, power_w: float, step: int = 60, counter: bool = True):
    return [
        Point(
            ts=at(start + s),
            speed=0.0,
            is_charging=True,
            battery_power_w=power_w,
            soc=20 + s / 60,
            charged_kwh=(1000 + power_w / 1000 * s / 3600) if counter else None,
            latitude=31.2,
            longitude=121.5,
        )
        for s in range(0, seconds + 1, step)
    ]


def test_a_charging_session_has_energy_and_cost():
    tariff = Tariff(price_per_kwh=1.0, fast_price_per_kwh=2.0, session_fee=5.0)
    settings = AnalysisSettings(tariff=tariff)
    points = [*charging(0, 3600, power_w=7000), Point(ts=at(3700), is_charging=False)]
    (session,) = segment_charging(points, now=at(3700))
    facts = session.tally.facts(settings)
    assert session.closed and not facts.fast
    assert facts.energy_kwh == pytest.approx(7.0)
    assert facts.cost == pytest.approx(7.0 * 1.0 + 5.0)
    assert (facts.start_soc, facts.end_soc) == (20, 80)
    assert facts.latitude == 31.2


def test_a_fast_session_without_a_counter_integrates_power():
    settings = AnalysisSettings(tariff=Tariff(price_per_kwh=1.0, fast_price_per_kwh=2.0))
    points = charging(0, 1800, power_w=120_000, counter=False)
    (session,) = segment_charging(points, now=at(1800 + 3600))
    facts = session.tally.facts(settings)
    assert facts.fast and facts.peak_power_kw == 120.0
    assert facts.energy_kwh == pytest.approx(60.0)
    assert facts.cost == pytest.approx(120.0)


def test_a_charging_session_still_going_stays_open():
    (session,) = segment_charging(charging(0, 600, power_w=7000), now=at(700))
    assert not session.closed


def test_fault_codes_raise_and_clear():
    points = [
        Point(ts=at(0), odometer_m=20_000_000, dtcs=["P0480"]),
        Point(ts=at(1), odometer_m=20_000_010),  # no list: nothing known
        Point(ts=at(2), odometer_m=20_000_020, dtcs=["P0480", "B1000"]),
        Point(ts=at(3), odometer_m=20_000_030, dtcs=["B1000"]),
    ]
    changes = fault_changes(points, active=set())
    assert [(c.code, c.raised, c.at, c.mileage_km) for c in changes] == [
        ("P0480", True, at(0), 20_000.0),
        ("B1000", True, at(2), 20_000.02),
        ("P0480", False, at(3), 20_000.03),
    ]
    assert SETTINGS.component_of("P0480") == "cooling_fan_controller"
    assert SETTINGS.component_of("U9999") is None


def test_service_due_takes_the_earlier_rule():
    base = {"last_service_date": date(2026, 1, 1), "last_service_km": 10_000.0}
    by_mileage = service_due(
        today=date(2026, 3, 1), mileage_km=25_000, km_per_day=100, settings=SETTINGS, **base
    )
    assert (by_mileage.due_date, by_mileage.reason) == (
        date(2026, 4, 20),
        "mileage",
    )  # 5,000 km at 100 a day
    by_time = service_due(
        today=date(2026, 3, 1), mileage_km=12_000, km_per_day=10, settings=SETTINGS, **base
    )
    assert (by_time.due_date, by_time.reason) == (date(2027, 1, 1), "time")


def test_campaign_targets_rank_by_days_to_threshold():
    settings = QualitySettings(target_margin_km=2_000, target_lead_days=30)
    candidates = [
        Candidate("past", 23_000, 50),  # 3,000 km past: -60 days
        Candidate("margin", 18_500, 0),  # within 2,000 km below, parked
        Candidate("soon", 15_000, 200),  # 25 days away
        Candidate("far", 10_000, 20),  # 500 days away
        Candidate("just_past", 20_100, 100),  # -1 day
    ]
    chosen = campaign_targets(candidates, 20_000, settings)
    assert [(c.key, days) for c, days in chosen] == [
        ("past", -60.0),
        ("just_past", -1.0),
        ("soon", 25.0),
        ("margin", 3650.0),  # not moving: last in line
    ]
