"""The runtime: triggers, waits on a controllable clock, branches, every kind of step, and
exactly-once effects under redelivery, crashes and competing workers."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from services.journeys.service import engine
from services.journeys.timers import StepWorker
from shared.contracts.feedback import ResponseSubmitted
from shared.contracts.profile import LifecycleStageChanged, SegmentMembershipChanged
from shared.messaging.envelope import Envelope
from tests.journeys.conftest import deliver, make_owner, rows, scalar, unique


def event_journey(key: str, steps: list[dict], *, event: str, **extra) -> dict:
    return {"key": key, "name": key, "category": "service", "reentry": {"mode": "always"},
            "trigger": {"type": "event", "event": event}, "steps": steps} | extra  # fmt: skip


def stage(owner_id: uuid.UUID, value: str) -> LifecycleStageChanged:
    return LifecycleStageChanged(owner_id=owner_id, stage=value, changed_at=datetime.now(UTC))


def answered(owner_id: uuid.UUID) -> ResponseSubmitted:
    return ResponseSubmitted(
        response_id=uuid.uuid4(), invitation_id=uuid.uuid4(), survey_key="nps", survey_version=1,
        kind="nps", owner_id=owner_id, touchpoint="delivery", channel="app",
        submitted_at=datetime.now(UTC),
    )  # fmt: skip


async def outbox_of(app, owner_id, kind: str) -> list[dict]:
    found = await rows(
        app,
        "SELECT envelope FROM outbox WHERE envelope->>'ownerid' = :o AND subject LIKE :k "
        "ORDER BY seq",
        o=str(owner_id), k=f"cem.journeys.{kind}.%",
    )  # fmt: skip
    return [row["envelope"]["data"] for row in found]


async def messages_of(app, owner_id) -> list[str]:
    found = await rows(
        app, "SELECT step_id FROM messages WHERE owner_id = :o ORDER BY created_at, step_id",
        o=owner_id,
    )  # fmt: skip
    return [row["step_id"] for row in found]


async def instance_of(app, owner_id, key: str) -> dict:
    found = await rows(
        app, "SELECT * FROM journey_instances WHERE owner_id = :o AND journey_key = :k",
        o=owner_id, k=key,
    )  # fmt: skip
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
async def stage_journey(marketer):
    """Entered when an owner reaches the delivery stage (the trigger's filter); archived after
    the test, so the next test's owners enter only its own journey."""
    made: list[str] = []

    async def make(steps: list[dict], **extra) -> str:
        key = unique("stage")
        spec = event_journey(key, steps, event="profile.lifecycle.stage_changed", **extra)
        spec["trigger"]["filter"] = {"field": "stage", "equals": "delivery"}
        await marketer.activate(spec)
        made.append(key)
        return key

    yield make
    for key in made:
        await marketer.archive(key)


async def test_an_event_enters_only_owners_it_matches(journeys_app, publisher, stage_journey):
    key = await stage_journey([{"id": "hi", "type": "message", "template": "onboarding_welcome"}])
    delivered, browsing = uuid.uuid4(), uuid.uuid4()
    await deliver(journeys_app, publisher, "lifecycle_changed",
                  stage(delivered, "delivery"), stage(browsing, "awareness"))  # fmt: skip
    assert (await instance_of(journeys_app, delivered, key))["status"] == "active"
    count = "SELECT count(*) FROM journey_instances WHERE owner_id = :o"
    assert await scalar(journeys_app, count, o=browsing) == 0


async def test_the_same_event_twice_enters_once(journeys_app, publisher, stage_journey):
    key = await stage_journey([{"id": "hi", "type": "message", "template": "onboarding_welcome"}])
    owner = uuid.uuid4()
    envelope = Envelope.wrap(stage(owner, "delivery"))
    await publisher(None, envelope=envelope)
    # Redelivered under a new NATS message id (as after the broker's duplicate window).
    await publisher(None, envelope=envelope, msg_id=uuid.uuid4())
    await deliver(journeys_app, publisher, "lifecycle_changed", stage(uuid.uuid4(), "awareness"))
    await instance_of(journeys_app, owner, key)


async def test_timed_waits_follow_the_clock(journeys_app, publisher, stage_journey, steps, clock):
    key = await stage_journey([
        {"id": "welcome", "type": "message", "template": "onboarding_welcome", "next": "pause"},
        {"id": "pause", "type": "wait", "hours": 72, "next": "tips"},
        {"id": "tips", "type": "message", "template": "onboarding_tips"},
    ])  # fmt: skip
    owner = uuid.uuid4()
    await deliver(journeys_app, publisher, "lifecycle_changed", stage(owner, "delivery"))
    await steps.run_once()
    assert await messages_of(journeys_app, owner) == ["welcome"]
    clock.advance(hours=71)
    await steps.run_once()
    assert await messages_of(journeys_app, owner) == ["welcome"]
    clock.advance(hours=2)
    await steps.run_once()
    assert await messages_of(journeys_app, owner) == ["welcome", "tips"]
    assert (await instance_of(journeys_app, owner, key))["status"] == "completed"
    [done] = await outbox_of(journeys_app, owner, "journey")
    assert (done["journey_key"], done["status"]) == (key, "completed")


async def test_a_wait_for_an_event_resumes_on_it_or_times_out(
    journeys_app, publisher, stage_journey, steps, clock
):
    await stage_journey([
        {"id": "ask", "type": "message", "template": "onboarding_welcome", "next": "await"},
        {"id": "await", "type": "wait", "event": "feedback.response.submitted",
         "timeout_hours": 24, "next": "thanks", "timeout_next": "nudge"},
        {"id": "thanks", "type": "message", "template": "onboarding_tips"},
        {"id": "nudge", "type": "message", "template": "survey_reminder"},
    ])  # fmt: skip
    prompt, silent = uuid.uuid4(), uuid.uuid4()
    await deliver(journeys_app, publisher, "lifecycle_changed",
                  stage(prompt, "delivery"), stage(silent, "delivery"))  # fmt: skip
    await steps.run_once()
    await deliver(journeys_app, publisher, "response_submitted", answered(prompt))
    await steps.run_once()
    assert await messages_of(journeys_app, prompt) == ["ask", "thanks"]
    assert await messages_of(journeys_app, silent) == ["ask"]
    clock.advance(hours=25)
    await steps.run_once()
    assert await messages_of(journeys_app, silent) == ["ask", "nudge"]


async def test_branches_take_the_first_case_that_holds(journeys_app, publisher, marketer, steps):
    segment, vip = unique("seg"), unique("vip")
    regular = await make_owner(journeys_app, publisher, segments=[segment])
    chinese_vip = await make_owner(journeys_app, publisher, segments=[segment, vip],
                                   language="zh")  # fmt: skip
    key = unique("branch")
    await marketer.activate({
        "key": key, "name": key, "category": "service", "trigger": {"type": "audience"},
        "audience": {"segment": segment},
        "steps": [
            {"id": "route", "type": "branch", "next": "plain",
             "cases": [{"when": {"segment": vip, "language": "zh"}, "next": "vip"},
                       {"when": {"not": {"segment": segment}}, "next": "plain"}]},
            {"id": "vip", "type": "message", "template": "onboarding_welcome"},
            {"id": "plain", "type": "message", "template": "onboarding_tips"},
        ],
    })  # fmt: skip
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    await steps.run_once()
    assert await messages_of(journeys_app, chinese_vip["owner_id"]) == ["vip"]
    assert await messages_of(journeys_app, regular["owner_id"]) == ["plain"]
    title = await scalar(journeys_app, "SELECT title FROM messages WHERE owner_id = :o",
                         o=chinese_vip["owner_id"])  # fmt: skip
    assert title.startswith("欢迎")


async def test_action_steps_ask_other_services_once_each(
    journeys_app, publisher, marketer, steps, deliveries, receiver
):
    segment = unique("seg")
    dealer = uuid.uuid4()
    owner = await make_owner(journeys_app, publisher, segments=[segment], vehicle=True,
                             dealer_id=dealer)  # fmt: skip
    key = unique("actions")
    await marketer.activate({
        "key": key, "name": key, "category": "service", "trigger": {"type": "audience"},
        "audience": {"segment": segment},
        "steps": [
            {"id": "case", "type": "ticket", "kind": "proactive_service", "priority": "high",
             "description": "Check the fan", "next": "survey"},
            {"id": "survey", "type": "survey", "survey_key": "nps", "touchpoint": "service",
             "next": "points"},
            {"id": "points", "type": "points", "points": 50, "reason": "Thanks", "next": "coupon"},
            {"id": "coupon", "type": "coupon", "coupon": "child_seat", "next": "tag"},
            {"id": "tag", "type": "tag", "tag": "cared_for", "next": "hook"},
            {"id": "hook", "type": "webhook", "url": "http://hooks/hook", "next": "done"},
            {"id": "done", "type": "exit"},
        ],
    })  # fmt: skip
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={"context": {"vin": "X"}})
    await steps.run_once()
    owner_id = owner["owner_id"]
    [ticket] = await outbox_of(journeys_app, owner_id, "ticket")
    assert ticket["kind"] == "proactive_service" and ticket["dealer_id"] == str(dealer)
    assert ticket["source_type"] == "journey" and "vin: X" in ticket["description"]
    assert len(await outbox_of(journeys_app, owner_id, "survey")) == 1
    assert [p["points"] for p in await outbox_of(journeys_app, owner_id, "points")] == [50]
    assert len(await outbox_of(journeys_app, owner_id, "coupon")) == 1
    assert [t["tag"] for t in await outbox_of(journeys_app, owner_id, "tag")] == ["cared_for"]
    assert (await instance_of(journeys_app, owner_id, key))["status"] == "exited"
    assert [e["status"] for e in await outbox_of(journeys_app, owner_id, "journey")] == ["exited"]

    await deliveries.run_once()
    await deliveries.run_once()
    calls = [body for _, body in receiver.calls if body["owner_id"] == str(owner_id)]
    assert len(calls) == 1 and calls[0]["journey_key"] == key


async def test_a_crash_mid_pass_sends_nothing_twice(journeys_app, publisher, marketer, clock):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    key = unique("crash")
    await marketer.activate({
        "key": key, "name": key, "category": "service", "trigger": {"type": "audience"},
        "audience": {"segment": segment},
        "steps": [{"id": "hi", "type": "message", "template": "onboarding_tips", "next": "pts"},
                  {"id": "pts", "type": "points", "points": 5, "reason": "r"}],
    })  # fmt: skip
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    database = journeys_app.state.database

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with database.transaction() as session:
            await engine.run_due(session, now=clock(), limit=500)
            raise Crash  # the process dies before the commit
    assert await messages_of(journeys_app, owner["owner_id"]) == []
    # After the restart a fresh worker redoes the pass, once.
    await StepWorker(database, clock=clock).run_once()
    await StepWorker(database, clock=clock).run_once()
    assert await messages_of(journeys_app, owner["owner_id"]) == ["hi"]
    assert len(await outbox_of(journeys_app, owner["owner_id"], "points")) == 1


async def test_competing_workers_run_each_instance_once(journeys_app, publisher, marketer, clock):
    segment = unique("seg")
    owners = [await make_owner(journeys_app, publisher, segments=[segment]) for _ in range(30)]
    key = unique("race")
    await marketer.activate({
        "key": key, "name": key, "category": "service", "trigger": {"type": "audience"},
        "audience": {"segment": segment},
        "steps": [{"id": "hi", "type": "message", "template": "onboarding_tips"}],
    })  # fmt: skip
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    database = journeys_app.state.database
    workers = [StepWorker(database, clock=clock, batch=4) for _ in range(4)]
    await asyncio.gather(*(worker.run_once() for worker in workers))
    ids = [o["owner_id"] for o in owners]
    count = await scalar(
        journeys_app, "SELECT count(*) FROM messages WHERE owner_id = ANY(:ids)", ids=ids
    )
    assert count == 30


async def test_entering_a_segment_starts_its_journey(journeys_app, publisher, marketer, steps):
    segment = unique("vip")
    key = unique("welcome_vip")
    await marketer.activate({
        "key": key, "name": key, "category": "service", "reentry": {"mode": "once"},
        "trigger": {"type": "segment_entered", "segment": segment},
        "steps": [{"id": "hi", "type": "message", "template": "onboarding_welcome"}],
    })  # fmt: skip
    joiner, other = uuid.uuid4(), uuid.uuid4()
    changes = [
        SegmentMembershipChanged(owner_id=joiner, segment_key=segment, entered=True,
                                 changed_at=datetime.now(UTC)),
        SegmentMembershipChanged(owner_id=other, segment_key=unique("else"), entered=True,
                                 changed_at=datetime.now(UTC)),
        SegmentMembershipChanged(owner_id=joiner, segment_key=segment, entered=False,
                                 changed_at=datetime.now(UTC)),
        SegmentMembershipChanged(owner_id=joiner, segment_key=segment, entered=True,
                                 changed_at=datetime.now(UTC)),
    ]  # fmt: skip
    await deliver(journeys_app, publisher, "segment_changed", *changes)
    await steps.run_once()
    assert await messages_of(journeys_app, joiner) == ["hi"]  # re-entry: once
    assert await messages_of(journeys_app, other) == []
    await marketer.archive(key)
