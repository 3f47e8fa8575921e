"""Roadside assistance (DESIGN.md scenario 5): owners stranded by a flat tyre, a flat 12 V
battery, an empty battery, a key the car no longer recognises or a cooling-fan warning ask for
help in the app; the 24-hour roadside line acknowledges each call and sends help, and most cases
are resolved by the time the run ends. Drawn from the seed: a re-run finds the same cases and
changes nothing."""

import random
from dataclasses import dataclass

from simulator import catalogue as c
from simulator.context import Run, run_all
from simulator.world import Vehicle, World

ROADSIDE_SHARE = 0.04  # of vehicles, a call for everyday trouble
KEY_CALL_SHARE = 0.3  # of vehicles whose smart key keeps failing
RESOLVED_SHARE = 0.7
KIND = "roadside_assistance"
HOTLINE = "roadside-line@cem.local"
# The roadside line as the car maker configures it: its queue, its SLA around the clock, and
# cases routed to the stranded car's servicing dealer, whose workshop takes the car in.
QUEUE = {"key": "roadside", "name": "Roadside assistance line", "members": [HOTLINE]}
SLA_POLICY = {
    "name": "Roadside assistance",
    "kind": KIND,
    "first_response_minutes": 15,
    "resolution_minutes": 240,
    "business_hours": False,
}
ROUTING_RULE = {
    "name": "Roadside assistance to the servicing dealer",
    "position": 10,
    "conditions": {"kinds": [KIND]},
    "queue": QUEUE["key"],
    "dealer_strategy": "servicing_dealer",
}
# The status a case moves through on the roadside line, in order.
STEPS = ("new", "acknowledged", "in_progress", "resolved")


@dataclass(frozen=True)
class Call:
    vehicle: Vehicle
    reason: str  # a key of catalogue.ROADSIDE_CALLS
    outcome: str  # in_progress (help is on its way, or the car is at the workshop) | resolved

    @property
    def text(self) -> c.Text:
        chinese, english = c.ROADSIDE_CALLS[self.reason]
        return chinese if self.vehicle.owner.language == "zh" else english


def calls(world: World) -> list[Call]:
    """Which vehicles called for help: every car showing the faulty fan's warning, some whose
    key fails, a few for everyday trouble. Each vehicle draws from a generator of its own, so
    the world's other draws stay as they were."""
    fan_warnings = {fault.vehicle.vin for fault in world.faults if fault.repaired is None}
    found = []
    for vehicle in world.vehicles:
        rng = random.Random(f"{world.seed}:roadside:{vehicle.vin}")
        if vehicle.vin in fan_warnings:
            reason = "overheating"
        elif vehicle.key_trouble and rng.random() < KEY_CALL_SHARE:
            reason = "key_not_recognised"
        elif rng.random() < ROADSIDE_SHARE:
            reason = rng.choice(("flat_tyre", "battery_12v", "out_of_charge"))
        else:
            continue
        # A car with the fan fault waits at the workshop for the replacement part.
        resolved = reason != "overheating" and rng.random() < RESOLVED_SHARE
        found.append(Call(vehicle, reason, "resolved" if resolved else "in_progress"))
    return found


async def requests(run: Run) -> None:
    stage = "Roadside assistance"
    if not await run.offers(
        stage,
        "GET /v1/profile/vehicles",
        "GET /v1/tickets/tickets",
        "POST /v1/tickets/tickets",
        "POST /v1/tickets/tickets/{ticket_id}/transitions",
        "POST /v1/tickets/queues",
        "POST /v1/tickets/sla-policies",
        "POST /v1/tickets/routing-rules",
    ):
        return
    await _roadside_line(run)
    wanted = [call for call in calls(run.world) if call.vehicle.owner.index in run.owner_ids]
    task = run.stage(stage, total=len(wanted))

    async def handle(call: Call) -> None:
        case, created = await _case(run, call)
        moves = await _follow_up(run, case, call.outcome)
        outcome = "requested" if created else "moved on" if moves else "unchanged"
        run.tally.add("roadside assistance", **{outcome: 1})
        run.progress.advance(task)

    await run_all(wanted, handle, workers=8)


async def _roadside_line(run: Run) -> None:
    """The queue, SLA policy and routing rule, each created once (found again by name)."""
    admin = run.credentials.admin()
    queues = run.gateway.items("/v1/tickets/queues", headers=admin)
    if QUEUE["key"] not in {queue["key"] async for queue in queues}:
        await run.gateway.post("/v1/tickets/queues", QUEUE, headers=admin)
    for path, wanted in (("sla-policies", SLA_POLICY), ("routing-rules", ROUTING_RULE)):
        existing = (await run.gateway.get(f"/v1/tickets/{path}", headers=admin)).json()
        if wanted["name"] not in {item["name"] for item in existing}:
            await run.gateway.post(f"/v1/tickets/{path}", wanted, headers=admin)


async def _case(run: Run, call: Call) -> tuple[dict, bool]:
    """The owner's case for this call: the one the app opened before, or a new one."""
    owner = run.credentials.owner(run.owner_ids[call.vehicle.owner.index])
    vehicle_id = None
    async for vehicle in run.gateway.items("/v1/profile/vehicles", headers=owner):
        if vehicle["vin"] == call.vehicle.vin:
            vehicle_id = vehicle["id"]
    text = call.text
    async for case in run.gateway.items(
        "/v1/tickets/tickets", headers=owner, params={"kind": KIND}
    ):
        if case["subject"] == text.title and case["vehicle_id"] == vehicle_id:
            return case, False
    body = {
        "kind": KIND,
        "subject": text.title,
        "description": text.body,
        "priority": "high",
        "channel": "app",
        "vehicle_id": vehicle_id,
    }
    return (await run.gateway.post("/v1/tickets/tickets", body, headers=owner)).json(), True


async def _follow_up(run: Run, case: dict, outcome: str) -> int:
    """The roadside line moves the case on to the call's outcome; returns the moves made."""
    if case["status"] not in STEPS:  # closed by the owner, or reopened: theirs now
        return 0
    ahead = STEPS[STEPS.index(case["status"]) + 1 : STEPS.index(outcome) + 1]
    agent = run.credentials.cx_agent(HOTLINE)
    if ahead and case["status"] == "in_progress":
        # Reopened after the owner's unhappy follow-up survey: the dealer's to finish now.
        seen = await run.gateway.get(f"/v1/tickets/tickets/{case['id']}", headers=agent)
        if seen.json()["reopen_count"]:
            return 0
    for status in ahead:
        await run.gateway.post(
            f"/v1/tickets/tickets/{case['id']}/transitions",
            {"to": status, "reason": "roadside line"},
            headers=agent,
        )
    return len(ahead)
