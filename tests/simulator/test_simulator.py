"""The fleet simulator against the platform as `make run` starts it, through the gateway only:
a small seeded fleet loads, a second run changes nothing, and the data is there to see.

The platform may hold other tests' data too, so what is checked is this fleet's own records,
found by the ids the simulator gave them."""

from datetime import datetime, timedelta

import httpx
import pytest

from gateway.config import GatewaySettings
from simulator.context import Run
from simulator.gateway import Credentials, Gateway
from simulator.run import progress_bar
from simulator.stages import casework, roadside, service_desk, voice
from simulator.stages.journeys import SCENARIO_JOURNEYS
from simulator.world import World
from tests.e2e.conftest import ADMIN
from tests.simulator.fleet import SEED, SIZES, Runs, items

# The first test's setup may start the platform and load the fleet (tests/simulator/fleet.py).
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
async def runs(fleet) -> Runs:
    return await fleet


@pytest.fixture(scope="module")
def world(runs) -> World:
    return runs.world


@pytest.fixture(scope="module")
async def gateway(platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as client:
        yield client


async def test_the_fleet_loads_through_the_gateway(runs, world, gateway):
    first, seen = runs.first, runs.seen_first
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
    seen_first, second, seen_second = runs.seen_first, runs.second, runs.seen_second
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
    seen = runs.seen_first
    assert {(o.external_id, o.status) for o in world.orders} <= seen["orders"]
    assert {"delivered", "lead", "ordered", "in_production"} <= {o.status for o in world.orders}
    for vehicle in world.vehicles:
        batches = frozenset(vehicle.batches.items())
        assert any(vin == vehicle.vin and batches <= parts for vin, parts in seen["vehicles"])


async def test_service_visits_replace_parts(runs, world):
    seen = runs.seen_first
    expected = {
        (v.external_id, v.visit_type, frozenset(p[2] for p in v.parts)) for v in world.visits
    }
    assert expected <= seen["visits"]
    assert any(parts for _, _, parts in expected)


async def test_owners_have_chinese_and_english_names(runs):
    seen = runs.seen_first
    assert {language for _, _, language in seen["owners"]} == {"zh", "en"}
    assert any("\u4e00" <= name[0] <= "\u9fff" for _, name, _ in seen["owners"])


async def test_telemetry_becomes_mileage_trips_and_charging(runs, gateway, world):
    seen = runs.seen_first
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
    seen = runs.seen_first
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
