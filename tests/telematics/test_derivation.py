"""The derivation worker over committed rows: trips, behaviour, charging, faults and service
due, each stored and announced through the outbox once, however often the worker runs."""

from datetime import timedelta

import pytest

from shared.contracts.profile import ComponentBatch
from tests.telematics.conftest import ADMIN, drive, new_owner, parked, rows, scalar
from tests.telematics.conftest import events as events_of

FAN = ComponentBatch(component="cooling_fan_controller", part_number="CF-1", batch_code="B-77")
TRIP_COMPLETED = "cem.telematics.trip.completed.v1"


@pytest.fixture
async def vehicle(register):
    (registered,) = await register(owner=new_owner(), components=[FAN])
    return registered


async def test_a_drive_becomes_one_trip_with_behaviour(
    gateway, vehicle, derive, clock, telematics_app
):
    start = clock.now - timedelta(hours=2)
    moving = drive(
        vehicle.vin, start, seconds=600, extra={"Vehicle.Acceleration.Longitudinal": 0.5}
    )
    for second in (100, 101, 300):  # two harsh accelerations, the first lasting two samples
        moving[second]["signals"]["Vehicle.Acceleration.Longitudinal"] = 5.0
    moving[400]["signals"]["Vehicle.Acceleration.Longitudinal"] = -6.0
    await gateway.send(moving)
    await gateway.send(parked(vehicle.vin, start + timedelta(seconds=600), seconds=400,
                              odometer_m=10_006_000.0))  # fmt: skip
    assert await derive() >= 1
    await derive()  # a second pass (or a restart) repeats nothing

    (trip,) = await rows(
        telematics_app,
        "SELECT distance_km, duration_seconds, harsh_accelerations, harsh_brakings, owner_id "
        "FROM trips WHERE vehicle_id = :v",
        v=vehicle.vehicle_id,
    )
    assert (trip.distance_km, trip.duration_seconds) == (6.0, 600)
    assert (trip.harsh_accelerations, trip.harsh_brakings) == (2, 1)
    assert trip.owner_id == vehicle.owner_id
    (completed,) = await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id)
    assert completed["distance_km"] == 6.0 and completed["harsh_accelerations"] == 2
    (behaviour,) = await events_of(
        telematics_app, "cem.telematics.behaviour.updated.v1", vehicle.vehicle_id
    )
    assert behaviour["trips"] == 1
    assert behaviour["harsh_accelerations_per_100km"] == pytest.approx(2 * 100 / 6.0, abs=1e-3)


async def test_a_trip_in_progress_is_announced_then_completed_with_the_same_id(
    gateway, vehicle, derive, clock, telematics_app
):
    start = clock.now - timedelta(minutes=30)
    await gateway.send(drive(vehicle.vin, start, seconds=120))
    await derive()
    (started,) = await events_of(
        telematics_app, "cem.telematics.trip.started.v1", vehicle.vehicle_id
    )
    assert await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id) == []
    await gateway.send(
        parked(vehicle.vin, start + timedelta(seconds=120), seconds=200, odometer_m=10_001_200.0)
    )
    await derive()  # parked under 300 s: it may go on
    assert await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id) == []
    await gateway.send(
        parked(vehicle.vin, start + timedelta(seconds=320), seconds=200, odometer_m=10_001_200.0)
    )
    await derive()
    (completed,) = await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id)
    assert completed["trip_id"] == started["trip_id"]
    assert completed["distance_km"] == pytest.approx(1.2, abs=0.01)


async def test_a_trip_closes_after_an_hour_of_silence(
    gateway, vehicle, derive, clock, telematics_app
):
    start = clock.now - timedelta(minutes=10)
    await gateway.send(drive(vehicle.vin, start, seconds=60))
    await derive()
    assert await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id) == []
    clock.advance(hours=1)
    assert await derive() >= 1  # the worker comes back without new rows
    (completed,) = await events_of(telematics_app, TRIP_COMPLETED, vehicle.vehicle_id)
    assert completed["ended_at"].startswith((start + timedelta(seconds=59)).isoformat()[:19])


async def test_charging_sessions_have_energy_and_cost(
    gateway, vehicle, derive, clock, client_as, telematics_app
):
    admin = client_as(ADMIN)
    settings = (await admin.get("/settings/analysis")).json()
    settings["tariff"] = {"price_per_kwh": 1.5, "fast_price_per_kwh": 2.5, "session_fee": 2.0,
                          "currency": "CNY"}  # fmt: skip
    assert (await admin.put("/settings/analysis", json=settings)).status_code == 200
    start = clock.now - timedelta(hours=3)
    battery = "Vehicle.Powertrain.TractionBattery."
    samples = [
        {
            "vin": vehicle.vin,
            "ts": (start + timedelta(minutes=minute)).isoformat(),
            "signals": {
                battery + "Charging.IsCharging": True,
                battery + "CurrentPower": 11_000.0,
                battery + "AccumulatedChargedEnergy": 500 + minute * 11 / 60,
                battery + "StateOfCharge.Current": 30 + minute / 3,
            },
        }
        for minute in range(0, 121)
    ]
    unplugged = start + timedelta(minutes=121)
    samples.append(
        {
            "vin": vehicle.vin,
            "ts": unplugged.isoformat(),
            "signals": {battery + "Charging.IsCharging": False},
        }
    )
    await gateway.send(samples)
    await derive()
    (session,) = await rows(
        telematics_app,
        "SELECT energy_kwh, cost, fast, start_soc, end_soc, peak_power_kw FROM charging_sessions "
        "WHERE vehicle_id = :v",
        v=vehicle.vehicle_id,
    )
    assert session.energy_kwh == pytest.approx(22.0)
    assert session.cost == pytest.approx(22.0 * 1.5 + 2.0)
    assert (session.fast, session.start_soc, session.end_soc) == (False, 30, 70)
    (event,) = await events_of(
        telematics_app, "cem.telematics.charging.completed.v1", vehicle.vehicle_id
    )
    assert event["cost"] == pytest.approx(35.0) and event["peak_power_kw"] == 11.0
    await admin.put("/settings/analysis", json={})  # back to the defaults for other tests


async def test_fault_codes_raise_and_clear_with_component_and_mileage(
    gateway, vehicle, derive, clock, telematics_app
):
    start = clock.now - timedelta(hours=1)

    def report(second: int, codes: list[str]) -> dict:
        return {
            "vin": vehicle.vin,
            "ts": (start + timedelta(seconds=second)).isoformat(),
            "signals": {"Vehicle.Diagnostics.DTCList": codes,
                        "Vehicle.TraveledDistance": 21_500_000.0 + second},
        }  # fmt: skip

    await gateway.send([report(0, ["P0480"]), report(1, ["P0480"])])
    await derive()
    await gateway.send([report(2, ["P0480"]), report(10, [])])
    await derive()
    (raised,) = await events_of(telematics_app, "cem.telematics.dtc.raised.v1", vehicle.vehicle_id)
    assert (raised["code"], raised["component"], raised["mileage_km"]) == (
        "P0480", "cooling_fan_controller", 21_500.0
    )  # fmt: skip
    (cleared,) = await events_of(
        telematics_app, "cem.telematics.dtc.cleared.v1", vehicle.vehicle_id
    )
    assert cleared["code"] == "P0480"
    # The fan failing counts against its batch, once.
    failures = await scalar(
        telematics_app,
        "SELECT count(*) FROM part_failures WHERE vehicle_id = :v AND source = 'dtc'",
        v=vehicle.vehicle_id,
    )
    assert failures == 1


async def test_service_due_is_predicted_from_mileage_and_pace(
    gateway, vehicle, derive, clock, telematics_app
):
    # 25,000 km, 150 km a day over the last ten days; no service since delivery (2025-03-01).
    samples = [
        {"vin": vehicle.vin, "ts": (clock.now - timedelta(days=10 - d)).isoformat(),
         "signals": {"Vehicle.TraveledDistance": (23_500 + 150 * d) * 1000.0}}
        for d in range(11)
    ]  # fmt: skip
    await gateway.send(samples)
    clock.advance(days=1)  # a new day: the prediction is made once a day
    await derive()
    (due,) = await events_of(
        telematics_app, "cem.telematics.service.due_predicted.v1", vehicle.vehicle_id
    )
    assert due["km_per_day"] == pytest.approx(150.0)
    assert due["reason"] == "time"  # delivered 2025-03-01: a year is up before 20,000 km more
    assert due["due_date"] == "2026-03-01"
