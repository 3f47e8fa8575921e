"""Rows that arrive after their time was derived (a backlog, a hole filled in, rows after a
trip was closed for silence) are derived too, correcting what was derived before rather than
repeating it; and a trip longer than one derivation pass reads (about 14 hours at one row a
second by default) completes like any other."""

from datetime import timedelta

import pytest

from services.telematics import workers
from services.telematics.workers import DerivationWorker
from tests.telematics.conftest import drive, new_owner, parked, rows
from tests.telematics.conftest import events as events_of

TRIP_COMPLETED = "cem.telematics.trip.completed.v1"
ODOMETER = 10_000_000.0  # m; `drive` goes 10 m a second at its default 36 km/h


@pytest.fixture
async def vehicle(register):
    (registered,) = await register(owner=new_owner())
    return registered


async def trips_of(app, vehicle) -> list:
    return await rows(
        app,
        "SELECT id, started_at, ended_at, points, distance_km, harsh_accelerations FROM trips "
        "WHERE vehicle_id = :v ORDER BY started_at",
        v=vehicle.vehicle_id,
    )


async def drive_and_park(gateway, vin, start, seconds: int, odometer_m: float = ODOMETER):
    await gateway.send(drive(vin, start, seconds=seconds, odometer_m=odometer_m))
    end = start + timedelta(seconds=seconds)
    await gateway.send(parked(vin, end, seconds=400, odometer_m=odometer_m + 10 * seconds))


async def test_a_backlog_sent_after_newer_rows_becomes_its_own_trip(
    gateway, vehicle, derive, clock, telematics_app
):
    await drive_and_park(gateway, vehicle.vin, clock.now - timedelta(hours=1), 600)
    await derive()
    (live,) = await trips_of(telematics_app, vehicle)
    # The vehicle was offline on an earlier drive; its rows come now.
    earlier = clock.now - timedelta(hours=5)
    await drive_and_park(gateway, vehicle.vin, earlier, 300, odometer_m=ODOMETER - 5000)
    await derive()
    backlog, again = await trips_of(telematics_app, vehicle)
    assert (backlog.started_at, backlog.distance_km) == (earlier, 3.0)
    assert tuple(again) == tuple(live)  # the newer trip is untouched
    completed = await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id)
    assert [event["trip_id"] for event in completed] == [str(live.id), str(backlog.id)]
    behaviour = await events_of(
        telematics_app, "cem.telematics.behaviour.updated.v1", vehicle.vehicle_id
    )
    assert [update["trips"] for update in behaviour] == [1, 2]


async def test_rows_filling_a_hole_correct_the_trip_they_belong_to(
    gateway, vehicle, derive, clock, telematics_app
):
    start = clock.now - timedelta(hours=3)
    samples = drive(vehicle.vin, start, seconds=900, odometer_m=ODOMETER)
    samples[450]["signals"]["Vehicle.Acceleration.Longitudinal"] = 5.0  # harsh, in the hole
    hole = samples[300:600]
    await gateway.send(samples[:300] + samples[600:])
    end = start + timedelta(seconds=900)
    await gateway.send(parked(vehicle.vin, end, seconds=400, odometer_m=ODOMETER + 9000))
    await derive()
    (before,) = await trips_of(telematics_app, vehicle)
    assert (before.points, before.harsh_accelerations) == (601, 0)

    await gateway.send(hole)
    await derive()
    (after,) = await trips_of(telematics_app, vehicle)
    assert (after.id, after.started_at, after.ended_at) == (before.id, start, end)
    assert (after.points, after.harsh_accelerations, after.distance_km) == (901, 1, 9.0)
    first, corrected = await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id)
    assert first["trip_id"] == corrected["trip_id"] == str(before.id)
    assert (first["harsh_accelerations"], corrected["harsh_accelerations"]) == (0, 1)
    await derive()  # nothing new: nothing repeated
    assert len(await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id)) == 2


async def test_rows_after_a_trip_closed_for_silence_extend_it(
    gateway, vehicle, derive, clock, telematics_app
):
    start = clock.now - timedelta(minutes=10)
    samples = drive(vehicle.vin, start, seconds=120, odometer_m=ODOMETER)
    await gateway.send(samples[:60])
    await derive()
    clock.advance(hours=1)
    await derive()  # an hour without rows: closed at its last row
    (closed,) = await trips_of(telematics_app, vehicle)
    assert closed.ended_at == start + timedelta(seconds=59)
    await gateway.send(samples[60:])  # held up in the vehicle: they were sent before the hour
    await derive()  # the trip is open again: more may come
    clock.advance(hours=1)
    await derive()
    (extended,) = await trips_of(telematics_app, vehicle)
    assert (extended.id, extended.ended_at) == (closed.id, start + timedelta(seconds=119))
    assert extended.distance_km == pytest.approx(1.19)


async def test_a_trip_longer_than_a_pass_reads_completes_whole(
    gateway, vehicle, clock, telematics_app
):
    """With passes of 100 rows, a trip of 1,000 rows is read in eleven of them: each carries
    the trip on, none reads a row twice (before, a trip over the limit was read again from
    its start, forever)."""
    settings = telematics_app.state.settings.model_copy(update={"derivation_row_limit": 100})
    worker = DerivationWorker(telematics_app.state.database, settings, clock)
    start = clock.now - timedelta(hours=2)
    for offset in range(0, 1000, 500):
        await gateway.send(
            drive(vehicle.vin, start + timedelta(seconds=offset), seconds=500,
                  odometer_m=ODOMETER + 10 * offset)
        )  # fmt: skip
    end = start + timedelta(seconds=1000)
    await gateway.send(parked(vehicle.vin, end, seconds=400, odometer_m=ODOMETER + 10_000))
    await worker.run_once()
    (trip,) = await trips_of(telematics_app, vehicle)
    assert (trip.started_at, trip.ended_at, trip.points, trip.distance_km) == (
        start, end, 1001, 10.0
    )  # fmt: skip


async def test_a_sweep_derives_every_vehicle_page_after_page(
    gateway, register, clock, telematics_app, monkeypatch
):
    """A sweep lists the vehicles to derive a page at a time, in id order: with pages of two,
    five vehicles (with their backlogs over the row limit) are all derived in one sweep."""
    monkeypatch.setattr(workers, "SWEEP_PAGE", 2)
    settings = telematics_app.state.settings.model_copy(update={"derivation_row_limit": 100})
    worker = DerivationWorker(telematics_app.state.database, settings, clock)
    vehicles = await register(5, owner=new_owner())
    start = clock.now - timedelta(hours=2)
    for vehicle in vehicles:
        await gateway.send(drive(vehicle.vin, start, seconds=300))
        end = start + timedelta(seconds=300)
        await gateway.send(parked(vehicle.vin, end, seconds=400, odometer_m=ODOMETER + 3_000))
    assert await worker.run_once() >= 5
    for vehicle in vehicles:
        (trip,) = await trips_of(telematics_app, vehicle)
        assert (trip.started_at, trip.points, trip.distance_km) == (start, 301, 3.0)


async def test_only_a_trip_under_way_is_announced_as_started(
    gateway, vehicle, derive, clock, telematics_app
):
    """A backlog's trip, still open as its batches come, is not under way: no trip.started."""
    started = "cem.telematics.trip.started.v1"
    await gateway.send(drive(vehicle.vin, clock.now - timedelta(hours=5), seconds=120))
    await derive()
    assert await events_of(telematics_app, started, vehicle.vehicle_id) == []
    live = clock.now - timedelta(minutes=5)
    await gateway.send(drive(vehicle.vin, live, seconds=60, odometer_m=ODOMETER + 10_000))
    await derive()  # the hour's gap ends the backlog's trip; the live one is under way
    (announced,) = await events_of(telematics_app, started, vehicle.vehicle_id)
    assert announced["started_at"].startswith(live.isoformat()[:19])
    (completed,) = await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id)
    assert completed["distance_km"] == pytest.approx(1.19)
