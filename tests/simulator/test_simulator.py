"""The fleet simulator against the platform as `make run` starts it, through the gateway only:
a small seeded fleet loads, a second run changes nothing, and the data is there to see.

The platform may hold other tests' data too, so what is checked is this fleet's own records,
found by the ids the simulator gave them."""

from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.config import GatewaySettings
from simulator.context import Run
from simulator.gateway import Credentials, Gateway
from simulator.run import Options, progress_bar, simulate
from simulator.stages import casework, roadside, service_desk, voice
from simulator.stages.journeys import SCENARIO_JOURNEYS
from simulator.world import World, build_world
from tests.e2e.conftest import ADMIN

# The first test's setup may start the platform and runs the simulator twice.
pytestmark = pytest.mark.timeout(900)
SEED = 11
SIZES = {"owners": 40, "dealers": 2, "days": 1}
TODAY = datetime.now(UTC).date()


def options(gateway_url: str) -> Options:
    return Options(
        gateway_url=gateway_url,
        seed=SEED,
        until=TODAY,
        settle_seconds=180,  # each wait ends as soon as the platform has caught up
        sample_seconds=120,
        **SIZES,
    )


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=SEED, until=TODAY, **SIZES)


@pytest.fixture(scope="module")
async def gateway(platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as client:
        yield client


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


@pytest.fixture(scope="module")
async def runs(platform, gateway, world):
    """Two runs of the same seed, with what the API showed after each."""
    settings = GatewaySettings(environment="test")
    first = await simulate(options(platform.gateway_url), progress_bar(disable=True), settings)
    seen_first = await visible(gateway, world)
    second = await simulate(options(platform.gateway_url), progress_bar(disable=True), settings)
    return first, seen_first, second, await visible(gateway, world)


async def test_the_fleet_loads_through_the_gateway(runs, world, gateway):
    first, seen, _, _ = runs
    assert not first.skipped, first.skipped
    assert sum(first.counts["dealers"].values()) == SIZES["dealers"]
    assert first.counts["imported owners"]["created"] == len(world.owners)
    assert first.counts["imported vehicles"]["created"] == len(world.vehicles)
    assert first.counts["imported orders"]["created"] == len(world.orders)
    assert first.counts["imported service visits"]["created"] == len(world.visits)
    assert first.counts["posts"]["created"] == len(world.posts)
    assert first.counts["signals"]["accepted"] > 1000
    assert first.counts["signals"]["rejected"] == 0
    assert first.counts["survey invitations"]["answered"] == len(seen["responses"]) > 0
    assert {email for email, _, _ in seen["owners"]} == {o.email for o in world.owners}
    assert {vin for vin, _ in seen["telematics"]} == {v.vin for v in world.vehicles}
    assert len(seen["leads"]) == len(world.leads)
    # Installed once per platform: another fleet (tests/dashboard's) may have come first.
    assert sum(first.counts["journeys"].values()) == len(SCENARIO_JOURNEYS)
    definitions = await items(gateway, "/v1/journeys/definitions", ADMIN)
    active = {d["key"] for d in definitions if d["status"] == "active"}
    assert set(SCENARIO_JOURNEYS) <= active
    assert first.counts["OTA release"].keys() <= {"entered", "unchanged"}
    assert first.counts["roadside assistance"]["requested"] == len(roadside.calls(world)) > 0


async def test_a_second_run_changes_nothing(runs, world):
    _, seen_first, second, seen_second = runs
    assert seen_second == seen_first
    for kind in ("owners", "vehicles", "orders", "service visits"):
        assert second.counts[f"imported {kind}"]["created"] == 0, kind
        assert second.counts[f"imported {kind}"]["updated"] == 0, kind
    assert second.counts["dealers"]["created"] == 0
    assert second.counts["posts"]["created"] == second.counts["posts"]["updated"] == 0
    assert second.counts["leads"]["unchanged"] == len(seen_first["leads"])
    assert second.counts["signals"]["accepted"] == 0
    assert second.counts["interaction events"]["accepted"] == 0
    assert second.counts["survey invitations"]["answered"] == 0
    assert second.counts["journeys"] == {"unchanged": len(SCENARIO_JOURNEYS)}
    assert second.counts["OTA release"] == {"unchanged": 1}
    assert second.counts["roadside assistance"] == {"unchanged": len(roadside.calls(world))}
    configured = (service_desk.QUEUES, service_desk.SLA_POLICIES, service_desk.ROUTING_RULES)
    setup = sum(map(len, configured)) + len(world.dealers)
    assert second.counts["service desk setup"] == {"unchanged": setup}
    for stage in ("service desk", "service desk, survey complaints"):
        assert set(second.counts.get(stage, {"unchanged": 0})) == {"unchanged"}, stage


async def test_orders_at_their_statuses_and_vehicles_with_their_batches(runs, world):
    _, seen, _, _ = runs
    assert {(o.external_id, o.status) for o in world.orders} <= seen["orders"]
    assert {"delivered", "lead", "ordered", "in_production"} <= {o.status for o in world.orders}
    for vehicle in world.vehicles:
        batches = frozenset(vehicle.batches.items())
        assert any(vin == vehicle.vin and batches <= parts for vin, parts in seen["vehicles"])


async def test_service_visits_replace_parts(runs, world):
    _, seen, _, _ = runs
    expected = {
        (v.external_id, v.visit_type, frozenset(p[2] for p in v.parts)) for v in world.visits
    }
    assert expected <= seen["visits"]
    assert any(parts for _, _, parts in expected)


async def test_owners_have_chinese_and_english_names(runs):
    _, seen, _, _ = runs
    assert {language for _, _, language in seen["owners"]} == {"zh", "en"}
    assert any("\u4e00" <= name[0] <= "\u9fff" for _, name, _ in seen["owners"])


async def test_telemetry_becomes_mileage_trips_and_charging(runs, gateway, world):
    _, seen, _, _ = runs
    mileage = dict(seen["telematics"])
    for vehicle in world.vehicles:
        assert mileage[vehicle.vin] == pytest.approx(vehicle.mileage_on(world.until), abs=0.01)
    trips = await items(gateway, f"/v1/telematics/vehicles/{world.vehicles[0].vin}/trips", ADMIN)
    assert len(trips) >= 2 * world.days  # a commute out and back each day
    charging = [
        session
        for vehicle in world.vehicles[:10]
        for session in await items(
            gateway, f"/v1/telematics/vehicles/{vehicle.vin}/charging-sessions", ADMIN
        )
    ]
    assert charging and all(session["energy_kwh"] > 0 for session in charging)


async def test_complaints_are_flagged_in_both_languages(runs, world):
    _, seen, _, _ = runs
    ours = {post.source_id for post in world.posts}
    posts = [post for post in seen["posts"] if post[0] in ours]
    assert len(posts) == len(world.posts)
    assert {language for _, language, _, _ in posts} == {"zh", "en"}
    complaints = [post for post in posts if "smart_key" in post[3]]
    assert complaints and any(flag for _, _, flag, _ in complaints)


async def test_a_stage_whose_api_is_missing_is_left_out_with_a_reason(runs, platform, world):
    """As against a platform without leads yet: the stage says so and the run goes on."""
    async with Gateway(platform.gateway_url, concurrency=4) as gateway:
        assert await gateway.offers("POST", "/v1/profile/leads")
        gateway._paths.discard("POST /v1/profile/leads")
        run = Run(
            world=world,
            gateway=gateway,
            credentials=Credentials(GatewaySettings(environment="test")),
            progress=progress_bar(disable=True),
            sample_seconds=120,
            settle_seconds=5,
        )
        await voice.leads(run)
    assert "POST /v1/profile/leads" in run.tally.skipped["Leads and test drives"]
    assert "leads" not in run.tally.counts


async def test_stranded_owners_get_roadside_assistance(runs, gateway, world):
    """Scenario 5: the app's roadside calls reach the roadside line and the car's servicing
    dealer, under the line's SLA, and the line answers each at once."""
    calls = roadside.calls(world)
    expected = {(call.vehicle.owner.email, call.text.title) for call in calls}
    codes = {dealer.code for dealer in world.dealers}
    dealers = {
        d["id"] for d in await items(gateway, "/v1/profile/dealers", ADMIN) if d["code"] in codes
    }
    ours = []
    for case in await items(gateway, "/v1/tickets/tickets", ADMIN, kind="roadside_assistance"):
        owner = (await gateway.get(f"/v1/profile/owners/{case['owner_id']}", headers=ADMIN)).json()
        if (owner["email"], case["subject"]) in expected:
            ours.append(case)
    assert len(ours) == len(calls)
    assert {case["queue"] for case in ours} == {roadside.QUEUE["key"]}
    assert {case["dealer_id"] for case in ours} <= dealers
    for case in ours:
        clocks = {clock["kind"]: clock for clock in case["sla"]}
        assert clocks["first_response"]["met"] is True
        assert clocks["resolution"]["target_minutes"] == roadside.SLA_POLICY["resolution_minutes"]
    # Resolved, unless its owner's unhappy follow-up survey reopened it.
    resolved = [case for case in ours if case["status"] == "resolved" or case["reopen_count"]]
    assert len(resolved) == sum(call.outcome == "resolved" for call in calls)


async def test_complaints_run_on_the_desk_sla_in_their_queue(runs, gateway, world):
    """Scenario 1: a flagged post or a detractor's answer opens a complaint in first-line
    customer service under the SLA policy for its priority; the desk answers it, hands the
    technical ones to the dealer's service station, and leaves some waiting, whose first
    response is due the policy's minutes after the case opened."""
    owners = await fleet_owners(gateway, world)
    complaints = [
        case
        for case in await items(gateway, "/v1/tickets/tickets", ADMIN, kind="complaint")
        if case["owner_id"] in owners
    ]
    policies = {
        policy["priority"]: policy
        for policy in service_desk.SLA_POLICIES
        if policy["kind"] == "complaint"
    }
    plans = [casework.plan(SEED, owners[case["owner_id"]], case) for case in complaints]
    assert complaints and any(plan.outcome != "new" for plan in plans)
    for case, plan in zip(complaints, plans, strict=True):
        clocks = {clock["kind"]: clock for clock in case["sla"]}
        # A breach raises the priority (an urgent complaint's 10 minutes may pass during the
        # test); until then the priority is the one whose policy the case runs on.
        if not case["escalation_level"]:
            policy = policies[case["priority"]]
            assert clocks["first_response"]["target_minutes"] == policy["first_response_minutes"]
            assert clocks["resolution"]["target_minutes"] == policy["resolution_minutes"]
        handed_over = plan.handover
        assert case["queue"] == (service_desk.SERVICE_STATION if handed_over else "first_line")
        assert case["first_responded_at"] is None or clocks["first_response"]["met"] is True
        if case["reopen_count"]:
            continue  # the owner's unhappy follow-up answer reopened it: the dealer's now
        assert case["status"] == plan.outcome, case
        if plan.outcome == "new":
            due = datetime.fromisoformat(clocks["first_response"]["due_at"])
            opened_at = datetime.fromisoformat(case["created_at"])
            assert due - opened_at == timedelta(minutes=clocks["first_response"]["target_minutes"])
        else:
            assert case["first_responded_at"] is not None
    answered = sum(case["first_responded_at"] is not None for case in complaints)
    report = await gateway.get("/v1/tickets/reports/sla", params={"kind": "complaint"},
                               headers=ADMIN)  # fmt: skip
    assert report.json()["totals"]["first_response"]["met"] >= answered > 0


async def fleet_owners(gateway: httpx.AsyncClient, world: World) -> dict[str, int]:
    """The platform's id of each of the fleet's owners, with the owner's index in the world."""
    index = {owner.email: owner.index for owner in world.owners}
    found = await items(gateway, "/v1/profile/owners", ADMIN)
    return {owner["id"]: index[owner["email"]] for owner in found if owner["email"] in index}
