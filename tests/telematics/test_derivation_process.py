"""Run as everything in one process (`cem up`), telematics derives in a child process of its
own: started as the service would start it, it derives committed rows into trips and stops
cleanly when asked."""

import asyncio
import signal
import sys
from datetime import timedelta

from services.telematics.derivation_process import child_environment
from tests.helpers import eventually
from tests.telematics.conftest import drive, new_owner, parked, scalar


async def test_the_derivation_process_derives_and_stops_when_asked(
    infrastructure, telematics_app, gateway, register, clock
):
    (vehicle,) = await register(owner=new_owner())
    child = await asyncio.create_subprocess_exec(
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
    try:
        start = clock.now - timedelta(hours=2)
        await gateway.send(drive(vehicle.vin, start, seconds=300, odometer_m=1_000_000.0))
        await gateway.send(
            parked(vehicle.vin, start + timedelta(seconds=300), seconds=400, odometer_m=1_003_000)
        )

        async def derived() -> bool:
            trips = await scalar(
                telematics_app,
                "SELECT count(*) FROM trips WHERE vehicle_id = :v AND distance_km = 3.0",
                v=vehicle.vehicle_id,
            )
            return trips == 1

        await eventually(derived, within_seconds=60)
    finally:
        child.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(child.wait(), 30)
    assert code == 0
