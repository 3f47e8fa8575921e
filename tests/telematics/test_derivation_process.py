"""Run as everything in one process (`cem up`), telematics derives in child processes of its
own: started as the service would start them, they derive committed rows into trips, side by
side without deriving a vehicle twice, and stop cleanly when asked."""

import asyncio
import signal
import sys
from datetime import timedelta

from services.telematics.derivation_process import child_environment
from tests.helpers import eventually
from tests.telematics.conftest import drive, new_owner, parked, scalar


def start_child(infrastructure, telematics_app):
    return asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.telematics.derivation_process",
        env={
            **child_environment(telematics_app.state.database),
            **infrastructure.environment(),
            "CEM_DERIVATION_POLL_SECONDS": "0.2",
            "CEM_LOG_LEVEL": "WARNING",
        },
    )


async def stop(child) -> int:
    child.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(child.wait(), 30)


async def trips_of(telematics_app, vehicle) -> int:
    return await scalar(
        telematics_app,
        "SELECT count(*) FROM trips WHERE vehicle_id = :v AND distance_km = 3.0",
        v=vehicle.vehicle_id,
    )


async def send_a_trip(gateway, clock, vehicle) -> None:
    start = clock.now - timedelta(hours=2)
    await gateway.send(drive(vehicle.vin, start, seconds=300, odometer_m=1_000_000.0))
    await gateway.send(
        parked(vehicle.vin, start + timedelta(seconds=300), seconds=400, odometer_m=1_003_000)
    )


async def test_the_derivation_process_derives_and_stops_when_asked(
    infrastructure, telematics_app, gateway, register, clock
):
    (vehicle,) = await register(owner=new_owner())
    child = await start_child(infrastructure, telematics_app)
    try:
        await send_a_trip(gateway, clock, vehicle)

        async def derived() -> bool:
            return await trips_of(telematics_app, vehicle) == 1

        await eventually(derived, within_seconds=60)
    finally:
        code = await stop(child)
    assert code == 0


async def test_two_derivation_processes_share_the_vehicles_and_derive_each_trip_once(
    infrastructure, telematics_app, gateway, register, clock
):
    vehicles = await register(8, owner=new_owner())
    for vehicle in vehicles:
        await send_a_trip(gateway, clock, vehicle)
    children = [await start_child(infrastructure, telematics_app) for _ in range(2)]
    try:

        async def derived() -> bool:
            return all([await trips_of(telematics_app, v) >= 1 for v in vehicles])

        await eventually(derived, within_seconds=90)
    finally:
        for child in children:  # one may be stopped before it is up: the test above checks
            await stop(child)  # a clean stop
    assert [await trips_of(telematics_app, v) for v in vehicles] == [1] * len(vehicles)
    announced = (
        "SELECT count(*) FROM outbox WHERE envelope->>'type' = 'cem.telematics.trip.completed.v1'"
        " AND envelope->>'subject' = ANY(:vehicles)"
    )
    ids = [str(v.vehicle_id) for v in vehicles]
    assert await scalar(telematics_app, announced, vehicles=ids) == len(vehicles)  # once each
