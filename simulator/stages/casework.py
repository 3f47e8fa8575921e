"""The service desk at work (DESIGN.md scenarios 1, 4 and 6): first-line agents pick up the
complaints, acknowledge them and hand the technical ones to the dealer's service station, whose
engineers follow up and resolve them; dealers call their leads back and hold the test drives.
Not every case is reached: some wait in the queue, and the platform's SLA timers breach and
escalate them when their first-response target passes.

Each case's fate is drawn from the seed and what the case is about, never from when it is seen,
and the desk moves a case only forward along that path: a re-run finds every case where it
left it and changes nothing. A case the owner reopened (an unhappy follow-up survey) is the
dealer's own work from then on, and is left alone.

Times are the platform's: cases are opened by the run's earlier stages and worked here, so a
case's first response comes as long after it opened as the run took in between (minutes in a
large run, seconds in a small one)."""

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from simulator.context import Run, run_all
from simulator.stages.service_desk import FIRST_LINE, FIRST_LINE_AGENTS, SERVICE_STATION

WORKED_KINDS = frozenset({"complaint", "inquiry", "lead_follow_up", "test_drive"})
SURVEY_SOURCE = "feedback.response"  # a detractor's answer opened the case
# What the desk leaves each case at, with its share. Complaints from the end of the run's
# surveys are answered and worked, not yet resolved.
EARLY = {"resolved": 45, "in_progress": 20, "waiting_on_owner": 10, "acknowledged": 10, "new": 15}
SALES = {"resolved": 40, "in_progress": 30, "acknowledged": 10, "new": 20}
LATE = {"in_progress": 35, "waiting_on_owner": 10, "acknowledged": 25, "new": 30}
# The statuses a case passes on its way to each outcome.
PATHS = {
    "new": ("new",),
    "acknowledged": ("new", "acknowledged"),
    "waiting_on_owner": ("new", "acknowledged", "waiting_on_owner"),
    "in_progress": ("new", "acknowledged", "in_progress"),
    "resolved": ("new", "acknowledged", "in_progress", "resolved"),
}
# Complaints the dealer's workshop must look at; the rest first-line customer service settles.
TECHNICAL = frozenset({"smart_key", "charging", "battery_range", "infotainment", "ota"})
AWAITING_PARTS_SHARE = 0.5  # of smart-key cases at the workshop: the key module is on order
PRIORITY_ORDER = ("urgent", "high", "normal", "low")
HANDOVER, PARTS = "handed to the service station", "awaiting parts"
REASONS = {
    "acknowledged": "Called the owner back; we are on it",
    "waiting_on_owner": "Asked the owner for photos and a good time to call",
    "in_progress": "Engineer following up",
    "resolved": "Fixed, and confirmed with the owner",
    HANDOVER: "Diagnosis at the dealer's service station",
    PARTS: "Replacement part on order",
}
SALES_REASONS = {
    "acknowledged": "Called the prospect back",
    "in_progress": "Appointment arranged",
    "resolved": "Met the prospect: test drive held, offer made",
}


@dataclass(frozen=True)
class Plan:
    outcome: str  # the status the desk leaves the case at
    agent: str  # the first-line agent who picks it up
    handover: bool  # to the dealer's service station before the engineer follows up
    parts: bool  # the workshop waits for a part (the SLA clocks stand still)


def plan(seed: int, owner_index: int, case: dict) -> Plan:
    """What happens to a case, drawn from the seed, its owner and what it is about."""
    rng = random.Random(f"{seed}:casework:{owner_index}:{case['kind']}:{case['subject']}")
    shares = (
        LATE
        if case["source_type"] == SURVEY_SOURCE
        else SALES
        if case["kind"] in ("lead_follow_up", "test_drive")
        else EARLY
    )
    outcome = rng.choices(list(shares), weights=list(shares.values()))[0]
    agent = rng.choice(FIRST_LINE_AGENTS)
    at_workshop = case["kind"] == "complaint" and case["category"] in TECHNICAL
    handover = at_workshop and outcome in ("in_progress", "resolved")
    parts = (
        handover
        and outcome == "in_progress"
        and case["category"] == "smart_key"
        and rng.random() < AWAITING_PARTS_SHARE
    )
    return Plan(outcome, agent, handover, parts)


def steps_ahead(case: dict, planned: Plan) -> list[str]:
    """The steps still to take from where the case is to where the plan leaves it."""
    path = PATHS[planned.outcome]
    if case["reopen_count"] or case["status"] not in path:
        return []
    ahead = list(path[path.index(case["status"]) + 1 :])
    if "in_progress" in ahead and planned.handover and case["queue"] == FIRST_LINE:
        ahead.insert(ahead.index("in_progress"), HANDOVER)
    if planned.parts and (ahead or case["status"] == "in_progress") and not case["pause_reason"]:
        ahead.append(PARTS)
    return ahead


async def answer_cases(run: Run) -> None:
    """The cases the run has opened so far: complaints from posts, leads and test drives."""
    await _work(run, "Service desk", lambda case: not _from_survey(case))


async def answer_survey_complaints(run: Run) -> None:
    """The complaints the owners' survey answers opened at the end of the run."""
    await _work(run, "Service desk, survey complaints", _from_survey)


def _from_survey(case: dict) -> bool:
    return case["source_type"] == SURVEY_SOURCE


async def _work(run: Run, stage: str, chosen: Callable[[dict], bool]) -> None:
    if not await run.offers(
        stage,
        "GET /v1/tickets/tickets",
        "POST /v1/tickets/tickets/{ticket_id}/transitions",
        "POST /v1/tickets/tickets/{ticket_id}/assignment",
        "POST /v1/tickets/tickets/{ticket_id}/pause",
    ):
        return
    owners = {owner_id: index for index, owner_id in run.owner_ids.items()}
    admin = run.credentials.admin()
    await _settled(run, admin)
    cases = [
        case
        async for case in run.gateway.items("/v1/tickets/tickets", headers=admin)
        if case["owner_id"] in owners and case["kind"] in WORKED_KINDS and chosen(case)
    ]
    cases.sort(key=lambda case: (PRIORITY_ORDER.index(case["priority"]), case["created_at"]))
    plans = {case["id"]: plan(run.world.seed, owners[case["owner_id"]], case) for case in cases}
    ahead = {case["id"]: steps_ahead(case, plans[case["id"]]) for case in cases}
    task = run.stage(stage, total=sum(map(len, ahead.values())) or None)
    if untouched := sum(not steps for steps in ahead.values()):
        run.tally.add(stage.lower(), unchanged=untouched)
    # In waves, as a desk works: every first response, then the follow-ups, then resolutions.
    for wave in range(max(map(len, ahead.values()), default=0)):
        due = [case for case in cases if len(ahead[case["id"]]) > wave]

        async def take(case: dict, wave: int = wave) -> None:
            step = ahead[case["id"]][wave]
            case.update(await _take(run, case, plans[case["id"]], step))
            run.tally.add(stage.lower(), **{step.replace("_", " "): 1})
            run.progress.advance(task)

        await run_all(due, take, workers=8)
    _note_waiting(run, stage, [case for case in cases if plans[case["id"]].outcome == "new"])


async def _take(run: Run, case: dict, planned: Plan, step: str) -> dict:
    """One step on one case, by whoever does it; returns the case as it is now."""
    path = f"/v1/tickets/tickets/{case['id']}"
    sales = case["kind"] in ("lead_follow_up", "test_drive")
    reason = (SALES_REASONS if sales else REASONS)[step]
    by = _worker(run, case, planned)
    if step == "acknowledged" and case["queue"] == FIRST_LINE:
        body = {"assignee": planned.agent, "reason": "picked up from the queue"}
        await run.gateway.post(f"{path}/assignment", body, headers=by)
    if step == HANDOVER:
        body = {"queue": SERVICE_STATION, "assignee": None, "reason": reason}
        response = await run.gateway.post(f"{path}/assignment", body, headers=by)
    elif step == PARTS:
        body = {"reason": "parts_back_order", "note": reason}
        response = await run.gateway.post(f"{path}/pause", body, headers=by)
    else:
        body = {"to": step, "reason": reason}
        response = await run.gateway.post(f"{path}/transitions", body, headers=by)
    return response.json()


def _worker(run: Run, case: dict, planned: Plan) -> dict[str, str]:
    """First-line customer service works its own queue; the dealer (through its DMS key)
    works what is at the dealer. A dealer outside the fleet's is worked by the agent."""
    dealer = run.credentials.dealer_keys.get(case["dealer_id"] or "")
    if case["queue"] == FIRST_LINE or dealer is None:
        return run.credentials.cx_agent(planned.agent)
    return dealer


async def _settled(run: Run, headers: dict[str, str], quiet_seconds: int = 3) -> None:
    """Cases follow posts, leads and answers through events: waits until their number has
    stopped growing for a few seconds (at most the run's settle time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + run.settle_seconds
    last, steady = -1, 0
    while loop.time() < deadline and steady < quiet_seconds:
        total = await run.gateway.total("/v1/tickets/tickets", headers=headers)
        steady = steady + 1 if total == last else 0
        last = total
        await asyncio.sleep(1.0)


def _note_waiting(run: Run, stage: str, waiting: list[dict]) -> None:
    """Says when the cases nobody has answered yet fall due, so the breaches can be watched."""
    due = sorted(
        datetime.fromisoformat(clock["due_at"])
        for case in waiting
        for clock in case["sla"]
        if clock["kind"] == "first_response" and clock["due_at"] and not clock["breached_at"]
    )
    if due:
        when = (
            f"at {due[0]:%H:%M}" if due[0] == due[-1] else f"from {due[0]:%H:%M} to {due[-1]:%H:%M}"
        )
        run.tally.notes.append(
            f"{stage}: {len(due)} case(s) still wait for a first response; the SLA falls due"
            f" {when} UTC on {due[-1]:%Y-%m-%d}, when the platform escalates them (the"
            " dashboard's Cases page then shows the breaches)."
        )
