"""Definitions are data: validated (naming the field), versioned, activated, paused and
archived through the API; running instances finish on the version they started."""

import uuid

from shared.auth import Caller, CallerKind
from tests.journeys.conftest import (
    make_owner,
    message_journey,
    owner_caller,
    scalar,
    unique,
)


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "code", "request_id"} <= body.keys()
    if field:
        assert field in [error["field"] for error in body.get("errors", [])], body
    return body


def journey(key: str, steps: list[dict], **extra) -> dict:
    return {
        "key": key,
        "name": key,
        "category": "service",
        "trigger": {"type": "audience"},
        "steps": steps,
    } | extra


def message(step_id: str, next_step: str | None = None) -> dict:
    step = {"id": step_id, "type": "message", "template": "onboarding_tips"}
    return step | ({"next": next_step} if next_step else {})


async def test_invalid_definitions_are_problems_naming_the_field_and_store_nothing(marketer):
    key = unique("bad")
    cases = [
        # A step nothing leads to.
        (journey(key, [message("a"), message("orphan")]), "body.steps.1"),
        # A loop that never waits would message the owner forever.
        (journey(key, [message("a", "b"), message("b", "a")]), "body.steps.0"),
        (journey(key, [message("a", "nowhere")]), "body.steps.0.next"),
        (journey(key, [message("a"), message("a")]), "body.steps.1.id"),
        (
            journey(
                key, [{"id": "w", "type": "wait", "event": "made.up.event", "timeout_hours": 1}]
            ),
            "body.steps.0.event",
        ),
        (
            journey(key, [{"id": "m", "type": "message", "template": "no_such_template"}]),
            "body.steps.0.template",
        ),
        (journey(key, [message("a")], entry="zzz"), "body.entry"),
        (journey(key, [message("a")], holdout_percent=80), "body.holdout_percent"),
        (
            journey(key, [{"id": "w", "type": "wait", "hours": 1, "event": "x"}]),
            "body.steps.0.wait",
        ),
        (journey(key, [message("a")], category="spam"), "body.category"),
        (journey(key, [message("a")], colour="red"), "body.colour"),
    ]
    for body, field in cases:
        assert_problem(await marketer.post("/definitions", json=body), 422, field)
    assert_problem(await marketer.get(f"/definitions/{key}/versions"), 404)


async def test_a_cycle_through_a_wait_is_allowed(marketer):
    steps = [
        message("nudge", "pause"),
        {"id": "pause", "type": "wait", "hours": 24, "next": "again"},
        {
            "id": "again",
            "type": "branch",
            "cases": [{"when": {"tag": "done"}, "next": "bye"}],
            "next": "nudge",
        },
        {"id": "bye", "type": "exit"},
    ]
    created = await marketer.ok("POST", "/definitions", 201, json=journey(unique("loop"), steps))
    assert created["status"] == "draft" and created["version"] == 1


async def test_versions_and_their_lifecycle(marketer):
    key = unique("life")
    await marketer.ok("POST", "/definitions", 201, json=journey(key, [message("a")]))
    duplicate = await marketer.post("/definitions", json=journey(key, [message("a")]))
    assert assert_problem(duplicate, 409)["code"] == "journey_exists"

    move = f"/definitions/{key}/versions/1/transitions"
    assert (await marketer.ok("POST", move, json={"to": "active"}))["status"] == "active"
    assert (await marketer.ok("POST", move, json={"to": "paused"}))["status"] == "paused"
    body = assert_problem(await marketer.post(move, json={"to": "draft"}), 409)
    assert "a paused journey cannot become draft" in body["detail"]

    body = {
        "name": "v2",
        "category": "service",
        "trigger": {"type": "audience"},
        "steps": [message("b")],
    }
    second = await marketer.ok("POST", f"/definitions/{key}/versions", 201, json=body)
    assert second["version"] == 2 and second["status"] == "draft"
    await marketer.ok("POST", f"/definitions/{key}/versions/2/transitions", json={"to": "active"})
    versions = await marketer.ok("GET", f"/definitions/{key}/versions")
    assert [v["status"] for v in versions] == ["superseded", "active"]
    assert (await marketer.ok("POST", move, json={"to": "archived"}))["status"] == "archived"
    assert_problem(await marketer.get(f"/definitions/{key}/versions/9"), 404)
    assert_problem(await marketer.get(f"/definitions/{key}/versions/99999999999"), 422)


async def test_only_marketing_writes_journeys(client_as, agent):
    owner = client_as(owner_caller(uuid.uuid4()))
    dealer_id = uuid.uuid4()
    dealer = client_as(Caller(kind=CallerKind.DEALER, subject=str(dealer_id), dealer_id=dealer_id))
    # Journeys are the maker's: a dealer reaches none of them, nor any owner's messages.
    paths = ["/definitions", "/messages", f"/owners/{uuid.uuid4()}/decisions",
             f"/recalls/{uuid.uuid4()}", f"/privacy/owners/{uuid.uuid4()}/export"]  # fmt: skip
    for path in paths:
        assert (await dealer.get(path)).status_code == 403, path
    body = journey(unique("nope"), [message("a")])
    assert_problem(await agent.post("/definitions", json=body), 403)
    assert_problem(await owner.post("/definitions", json=body), 403)
    assert_problem(await owner.get("/definitions"), 403)
    assert_problem(await client_as(None).get("/definitions"), 401)


async def test_running_instances_finish_on_the_version_they_started(
    journeys_app, publisher, marketer, steps, clock
):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    key = unique("versioned")
    first = journey(
        key,
        [
            message("first", "pause"),
            {"id": "pause", "type": "wait", "hours": 48, "next": "later"},
            message("later"),
        ],
        audience={"segment": segment},
    )
    await marketer.activate(first)
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    await steps.run_once()

    second = {k: v for k, v in first.items() if k != "key"} | {"steps": [message("only")]}
    await marketer.ok("POST", f"/definitions/{key}/versions", 201, json=second)
    await marketer.ok("POST", f"/definitions/{key}/versions/2/transitions", json={"to": "active"})
    clock.advance(hours=49)
    await steps.run_once()
    taken = await scalar(
        journeys_app,
        "SELECT string_agg(step_id, ',' ORDER BY created_at) FROM messages WHERE owner_id = :o",
        o=owner["owner_id"],
    )
    assert taken == "first,later"
    version = await scalar(
        journeys_app,
        "SELECT version FROM journey_instances WHERE owner_id = :o",
        o=owner["owner_id"],
    )
    assert version == 1


async def test_a_paused_journey_holds_its_instances_until_resumed(
    journeys_app, publisher, marketer, steps
):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    key = unique("paused")
    await marketer.activate(message_journey(key, category="service", audience={"segment": segment}))
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    move = f"/definitions/{key}/versions/1/transitions"
    await marketer.ok("POST", move, json={"to": "paused"})
    await steps.run_once()
    count = "SELECT count(*) FROM messages WHERE owner_id = :o"
    assert await scalar(journeys_app, count, o=owner["owner_id"]) == 0
    await marketer.ok("POST", move, json={"to": "active"})
    await steps.run_once()
    assert await scalar(journeys_app, count, o=owner["owner_id"]) == 1
