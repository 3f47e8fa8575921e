"""The fleet simulator against the platform as `make run` starts it, through the gateway only:
a small seeded fleet loads, a second run changes no count, and the data is there to see."""

from datetime import UTC, datetime

import httpx
import pytest

from gateway.config import GatewaySettings
from simulator.run import Options, progress_bar, simulate
from simulator.world import OPEN_ORDER_STATUSES, build_world
from tests.e2e.conftest import ADMIN

SEED = 11
SIZES = {"owners": 40, "dealers": 2, "days": 1}
TODAY = datetime.now(UTC).date()


def options(gateway_url: str) -> Options:
    return Options(
        gateway_url=gateway_url,
        seed=SEED,
        until=TODAY,
        settle_seconds=30,
        sample_seconds=120,
        **SIZES,
    )


@pytest.fixture(scope="module")
def world():
    return build_world(seed=SEED, until=TODAY, **SIZES)


@pytest.fixture(scope="module")
async def gateway(platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def runs(platform, gateway):
    """Two runs of the same seed, with what the API showed after each."""
    settings = GatewaySettings(environment="test")
    first = await simulate(options(platform.gateway_url), progress_bar(disable=True), settings)
    seen_first = await visible_counts(gateway)
    second = await simulate(options(platform.gateway_url), progress_bar(disable=True), settings)
    return first, seen_first, second, await visible_counts(gateway)


async def total(gateway: httpx.AsyncClient, path: str, **params) -> int:
    response = await gateway.get(path, params={"limit": 1, **params}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["total"]


async def visible_counts(gateway: httpx.AsyncClient) -> dict[str, int]:
    paths = (
        "/v1/profile/dealers",
        "/v1/profile/owners",
        "/v1/profile/vehicles",
        "/v1/profile/orders",
        "/v1/profile/service-visits",
        "/v1/profile/leads",
        "/v1/feedback/posts",
        "/v1/feedback/responses",
        "/v1/telematics/vehicles",
    )
    return {path: await total(gateway, path) for path in paths}


async def test_the_fleet_loads_through_the_gateway(runs, world):
    first, seen, _, _ = runs
    assert not first.skipped, first.skipped
    assert first.counts["dealers"]["created"] == SIZES["dealers"]
    assert first.counts["imported owners"]["created"] == len(world.owners)
    assert first.counts["imported vehicles"]["created"] == len(world.vehicles)
    assert first.counts["imported orders"]["created"] == len(world.orders)
    assert first.counts["imported service visits"]["created"] == len(world.visits)
    assert first.counts["posts"]["created"] == len(world.posts)
    assert first.counts["signals"]["accepted"] > 1000
    assert first.counts["signals"]["rejected"] == 0
    assert first.counts["survey invitations"]["answered"] > 0
    assert seen["/v1/profile/owners"] == len(world.owners)
    assert seen["/v1/profile/vehicles"] == len(world.vehicles)
    assert seen["/v1/profile/leads"] == len(world.leads)
    assert seen["/v1/telematics/vehicles"] == len(world.vehicles)


async def test_a_second_run_changes_no_count(runs):
    _, seen_first, second, seen_second = runs
    assert seen_second == seen_first
    for kind in ("owners", "vehicles", "orders", "service visits"):
        assert second.counts[f"imported {kind}"]["created"] == 0, kind
        assert second.counts[f"imported {kind}"]["updated"] == 0, kind
    assert second.counts["dealers"]["created"] == 0
    assert second.counts["posts"]["created"] == 0
    assert second.counts["leads"]["unchanged"] == seen_first["/v1/profile/leads"]
    assert second.counts["signals"]["accepted"] == 0
    assert second.counts["interaction events"]["accepted"] == 0
    assert second.counts.get("survey invitations", {}).get("answered", 0) == 0


async def test_orders_show_each_status_of_the_fleet(runs, gateway, world):
    for status in ("delivered", "lead", *OPEN_ORDER_STATUSES):
        expected = sum(order.status == status for order in world.orders)
        assert await total(gateway, "/v1/profile/orders", status=status) == expected, status
    assert {"delivered", "lead", "ordered", "in_production"} <= {o.status for o in world.orders}


async def test_vehicles_carry_component_batches_and_visits_replace_parts(runs, gateway, world):
    vehicles = (await gateway.get("/v1/profile/vehicles", headers=ADMIN)).json()["items"]
    components = {part["component"] for vehicle in vehicles for part in vehicle["components"]}
    assert {"cooling_fan_controller", "smart_key_module"} <= components
    visits = (
        await gateway.get("/v1/profile/service-visits", params={"limit": 200}, headers=ADMIN)
    ).json()["items"]
    with_parts = [visit for visit in visits if visit["parts"]]
    assert with_parts and {visit["visit_type"] for visit in visits} >= {"inspection"}


async def test_owners_have_chinese_and_english_names(runs, gateway):
    owners = (await gateway.get("/v1/profile/owners", params={"limit": 200}, headers=ADMIN)).json()[
        "items"
    ]
    languages = {owner["preferred_language"] for owner in owners}
    assert languages == {"zh", "en"}
    assert any("\u4e00" <= owner["full_name"][0] <= "\u9fff" for owner in owners)


async def test_telemetry_becomes_trips_and_charging(runs, gateway, world):
    vehicle = world.vehicles[0]
    trips = await total(gateway, f"/v1/telematics/vehicles/{vehicle.vin}/trips")
    assert trips >= 2 * world.days  # a commute out and back each day
    charging = 0
    for each in world.vehicles[:10]:
        charging += await total(gateway, f"/v1/telematics/vehicles/{each.vin}/charging-sessions")
    assert charging > 0


async def test_complaints_are_flagged_in_both_languages(runs, gateway, world):
    posts = (await gateway.get("/v1/feedback/posts", params={"limit": 200}, headers=ADMIN)).json()[
        "items"
    ]
    assert {post["language"] for post in posts} == {"zh", "en"}
    complaints = [post for post in posts if "smart_key" in post["topics"]]
    assert complaints and any(post["flag"] for post in complaints)
