"""The demo data the dashboard is looked at with: the suite's fleet, loaded through the gateway
by the simulator as `make demo` loads it (tests/simulator/fleet.py), and one quality alert. A
small fleet has too little mileage on record for the early warning, so the alert is raised as in
scenario 2: a dealer's fleet whose fan-controller batch fails past 20,000 km, and the quality
engineer's analysis."""

import asyncio
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx

from simulator.context import chunks
from simulator.gateway import Gateway
from simulator.world import World
from tests.e2e.support import QUALITY, VEHICLE_GATEWAY, dealer_in, getter, ok, unique, wait_for
from tests.e2e.test_scenario_2_proactive_quality_warning import (
    BAD,
    failure_visits,
    fleet_batch,
    odometer_samples,
)
from tests.simulator.fleet import Runs

OWNERS_PER_IMPORT = 20
T = TypeVar("T")


@dataclass
class Demo:
    world: World
    alert: dict  # the planted quality alert, with its evidence and campaign targets


async def load(gateway: httpx.AsyncClient, fleet: Awaitable[Runs]) -> Demo:
    """The alert planted while the fleet loads (neither waits for the other)."""
    started = time.monotonic()
    runs, alert = await asyncio.gather(
        _timed(fleet, "fleet"), _timed(_plant_alert(gateway), "quality alert")
    )
    first = runs.first
    assert not first.skipped, first.skipped
    print(f"demo data in {time.monotonic() - started:.0f} s; simulator stages: {first.seconds}")
    return Demo(world=runs.world, alert=alert)


async def _timed(work: Awaitable[T], name: str) -> T:
    started = time.monotonic()
    try:
        return await work
    finally:
        print(f"{name} in {time.monotonic() - started:.0f} s")


async def _plant_alert(gateway: httpx.AsyncClient) -> dict:
    component = unique("cooling_fan_controller")
    dealer = await dealer_in(gateway, unique("City"))
    batch, fleet = fleet_batch(component, seed=11)
    await _import(str(gateway.base_url), dealer.headers, batch)
    samples = odometer_samples(fleet, datetime.now(UTC))

    async def send() -> dict:
        return ok(await gateway.post("/v1/telematics/signals", json=samples,
                                     headers=VEHICLE_GATEWAY))  # fmt: skip

    # Telematics learns the vehicles from profile's events; until then a sample is refused.
    await wait_for(send, lambda result: result["rejected"] == 0)
    visits = failure_visits(component, fleet, random.Random(7))
    await _import(str(gateway.base_url), dealer.headers, {"owners": [], "service_visits": visits})
    failed = sum(visit["vin"] in {vin for vin, code, _, _ in fleet if code == BAD}
                 for visit in visits)  # fmt: skip
    last = fleet[-1]
    await wait_for(
        getter(gateway, f"/v1/telematics/vehicles/{last[0]}", QUALITY),
        lambda state: state and state["mileage_km"] and state["mileage_km"] >= last[2] - 1,
    )

    async def analysed() -> list[dict]:
        report = ok(await gateway.post("/v1/telematics/quality/analyses", headers=QUALITY))
        return [
            ok(await gateway.get(f"/v1/telematics/quality/alerts/{a['id']}", headers=QUALITY))
            for a in report["alerts"]
            if a["component"] == component
        ]

    # Telematics hears of the repairs by event: analyse until it has all of them.
    alerts = await wait_for(
        analysed, lambda found: found and sum(b["failures"] for b in found[0]["bands"]) == failed
    )
    return alerts[0]


async def _import(gateway_url: str, headers: dict, batch: dict) -> None:
    """The DMS import in small parts, retried when profile, busy with the simulator's imports,
    does not answer in time (an import is an idempotent upsert)."""
    async with Gateway(gateway_url, concurrency=1) as dms:
        for part in chunks(batch["owners"], OWNERS_PER_IMPORT):
            owners = {owner["external_id"] for owner in part}
            vehicles = [v for v in batch["vehicles"] if v["owner_external_id"] in owners]
            body = {"owners": part, "vehicles": vehicles, "service_visits": []}
            await dms.post("/v1/profile/imports", body, headers=headers)
        if batch.get("service_visits"):
            body = {"service_visits": batch["service_visits"]}
            await dms.post("/v1/profile/imports", body, headers=headers)
