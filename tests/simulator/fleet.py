"""The small seeded fleet the simulator loads onto the suite's platform, through the gateway, once
a session: tests/simulator checks what its two runs did and what the API showed after each, and
tests/dashboard looks at the data. Loading it once spares the suite a simulator run.

The seed draws roadside calls for both dealers, resolved and still open (the dashboard shows
both)."""

from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from gateway.config import GatewaySettings
from simulator.context import Tally
from simulator.run import Options, progress_bar, simulate
from simulator.world import World, build_world
from tests.e2e.conftest import ADMIN

SEED = 23
SIZES = {"owners": 40, "dealers": 2, "days": 1}


@dataclass
class Runs:
    """Two runs of the same seed, with this fleet's records as the API showed them after each."""

    world: World
    first: Tally
    seen_first: dict[str, set]
    second: Tally
    seen_second: dict[str, set]


async def run_twice(gateway: httpx.AsyncClient) -> Runs:
    today = datetime.now(UTC).date()
    world = build_world(seed=SEED, until=today, **SIZES)
    settings = GatewaySettings(environment="test")
    options = Options(
        gateway_url=str(gateway.base_url),
        seed=SEED,
        until=today,
        settle_seconds=180,  # each wait ends as soon as the platform has caught up
        sample_seconds=120,
        **SIZES,
    )
    first = await simulate(options, progress_bar(disable=True), settings)
    seen_first = await visible(gateway, world)
    second = await simulate(options, progress_bar(disable=True), settings)
    return Runs(world, first, seen_first, second, await visible(gateway, world))


async def items(gateway: httpx.AsyncClient, path: str, headers: dict, **params) -> list[dict]:
    found, offset = [], 0
    while True:
        response = await gateway.get(
            path, params={"limit": 200, "offset": offset, **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return found


async def visible(gateway: httpx.AsyncClient, world: World) -> dict[str, set]:
    """This fleet's records as its dealers and staff see them through the gateway."""
    seen: dict[str, set] = {"owners": set(), "vehicles": set(), "orders": set(), "visits": set()}
    owner_ids: set[str] = set()
    emails = {owner.email for owner in world.owners}
    async with dealer_keys(gateway, world) as keys:
        for headers in keys:
            await _dealer_view(gateway, headers, emails, seen, owner_ids)
    posts = await items(gateway, "/v1/feedback/posts", ADMIN)
    seen["posts"] = {(p["source_id"], p["language"], p["flag"], tuple(p["topics"])) for p in posts}
    responses = await items(gateway, "/v1/feedback/responses", ADMIN)
    seen["responses"] = {r["id"] for r in responses if r["owner_id"] in owner_ids}
    vins = {vehicle.vin for vehicle in world.vehicles}
    states = await items(gateway, "/v1/telematics/vehicles", ADMIN)
    seen["telematics"] = {(s["vin"], s["mileage_km"]) for s in states if s["vin"] in vins}
    return seen


async def _dealer_view(gateway, headers, emails, seen, owner_ids) -> None:
    for owner in await items(gateway, "/v1/profile/owners", headers):
        if owner["email"] in emails:
            seen["owners"].add((owner["email"], owner["full_name"], owner["preferred_language"]))
            owner_ids.add(owner["id"])
    for vehicle in await items(gateway, "/v1/profile/vehicles", headers):
        parts = frozenset((p["component"], p["batch_code"]) for p in vehicle["components"])
        seen["vehicles"].add((vehicle["vin"], parts))
    for order in await items(gateway, "/v1/profile/orders", headers):
        seen["orders"].add((order["external_id"], order["status"]))
    for visit in await items(gateway, "/v1/profile/service-visits", headers):
        parts = frozenset(p["batch_code"] for p in visit["parts"])
        seen["visits"].add((visit["external_id"], visit["visit_type"], parts))
    leads = await items(gateway, "/v1/profile/leads", headers)
    seen.setdefault("leads", set()).update(
        (lead["owner_id"], lead["kind"]) for lead in leads if lead["owner_id"] in owner_ids
    )


@asynccontextmanager
async def dealer_keys(gateway: httpx.AsyncClient, world: World):
    """A key of the test's own for each of the fleet's dealers (the run revoked its keys),
    revoked afterwards (a dealer holds two active keys at most)."""
    codes = {dealer.code for dealer in world.dealers}
    dealers = [d for d in await items(gateway, "/v1/profile/dealers", ADMIN) if d["code"] in codes]
    issued = []
    for dealer in dealers:
        response = await gateway.post(f"/v1/gateway/dealers/{dealer['id']}/keys", headers=ADMIN)
        assert response.status_code == 201, response.text
        issued.append(response.json())
    try:
        yield [{"X-API-Key": key["key"]} for key in issued]
    finally:
        for key in issued:
            await gateway.post(f"/v1/gateway/keys/{key['id']}/revoke", headers=ADMIN)
