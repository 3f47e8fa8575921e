"""Guard rails, each seen in the decision log staff query: consent, quiet hours (deferred,
not dropped), caps per owner, vehicle and household, priority when caps collide, no push
while driving, re-entry rules and holdouts."""

import uuid
from datetime import UTC, datetime

import pytest

from services.journeys.service import deliveries as delivery_service
from shared.contracts.profile import HouseholdMembershipChanged, OwnersMerged
from shared.contracts.telematics import TripCompleted, TripStarted
from tests.journeys.conftest import (
    deliver,
    make_owner,
    message_journey,
    owner_caller,
    rows,
    unique,
)

# 23:00 in Shanghai on the test day.
LATE_EVENING = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
async def policy(marketer):
    """Sets the contact policy for one test and puts the default back afterwards."""
    default = await marketer.ok("GET", "/contact-policy")

    async def put(caps: list[dict], **extra) -> None:
        await marketer.ok("PUT", "/contact-policy", json=default | {"caps": caps} | extra)

    yield put
    await marketer.ok("PUT", "/contact-policy", json=default)


@pytest.fixture
def run_journey(marketer, steps):
    """Activates a one-message journey over a segment and runs it (`times` runs)."""

    async def run(segment: str, *, times: int = 1, context: dict | None = None, **spec) -> str:
        key = unique("guarded")
        await marketer.activate(message_journey(key, audience={"segment": segment}, **spec))
        for _ in range(times):
            await marketer.ok("POST", f"/definitions/{key}/runs", 201,
                              json={"context": context or {}})  # fmt: skip
            await steps.run_once()
        return key

    return run


async def decisions(agent, owner_id) -> list[tuple[str | None, str, str]]:
    page = await agent.ok("GET", f"/owners/{owner_id}/decisions", params={"limit": 200})
    return [(d["channel"], d["outcome"], d["reason"]) for d in reversed(page["items"])]


async def messages(app, owner_id) -> int:
    return len(await rows(app, "SELECT id FROM messages WHERE owner_id = :o", o=owner_id))


async def test_marketing_needs_consent_service_messages_do_not(
    journeys_app, publisher, run_journey, agent
):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment], marketing=["email"])
    owner_id = owner["owner_id"]
    await run_journey(segment, channels=["app_push", "email"])
    assert await decisions(agent, owner_id) == [
        ("app_push", "suppressed", "consent"), ("email", "sent", "sent")
    ]  # fmt: skip
    silent = await make_owner(journeys_app, publisher, segments=[segment], marketing=[])
    await run_journey(segment)
    assert await messages(journeys_app, silent["owner_id"]) == 0
    assert await decisions(agent, silent["owner_id"]) == [("app_push", "suppressed", "consent")]
    await run_journey(segment, category="service")
    assert await messages(journeys_app, silent["owner_id"]) == 1


async def test_quiet_hours_defer_and_never_drop(
    journeys_app, publisher, run_journey, agent, deliveries, clock, client_as
):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    clock.set(LATE_EVENING)
    await run_journey(segment)
    [(_, outcome, reason)] = await decisions(agent, owner["owner_id"])
    assert (outcome, reason) == ("deferred", "quiet_hours")
    await deliveries.run_once()
    inbox = client_as(owner_caller(owner["owner_id"]))
    [message] = await inbox.inbox()  # the inbox has it at once; the push waits
    assert message["deliveries"][0]["status"] == "queued"
    assert message["deliveries"][0]["not_before"] == "2026-03-04T00:00:00Z"  # 08:00 local
    clock.set(datetime(2026, 3, 4, 0, 1, tzinfo=UTC))
    await deliveries.run_once()
    [message] = await inbox.inbox()
    assert message["deliveries"][0]["status"] == "sent"


async def test_an_owner_sets_their_own_quiet_hours(
    journeys_app, publisher, run_journey, agent, clock, client_as
):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    me = client_as(owner_caller(owner["owner_id"]))
    bad = await me.put("/preferences", json={"timezone": "Mars/Base"})
    assert [e["field"] for e in bad.json()["errors"]] == ["body.timezone"]
    half = await me.put("/preferences", json={"quiet_start": "09:00"})
    assert half.status_code == 422 and "go together" in half.json()["detail"]
    saved = await me.ok("PUT", "/preferences",
                        json={"quiet_start": "09:00", "quiet_end": "12:00",
                              "timezone": "Europe/Berlin"})  # fmt: skip
    assert saved["quiet_start"] == "09:00" and saved["timezone"] == "Europe/Berlin"
    clock.set(datetime(2026, 3, 3, 9, 30, tzinfo=UTC))  # 10:30 in Berlin, 17:30 in Shanghai
    await run_journey(segment)
    assert await decisions(agent, owner["owner_id"]) == [
        ("app_push", "deferred", "quiet_hours")
    ]  # fmt: skip


async def test_safety_notices_ignore_quiet_hours(
    journeys_app, publisher, run_journey, agent, clock
):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    clock.set(LATE_EVENING)
    await run_journey(segment, category="safety")
    assert await decisions(agent, owner["owner_id"]) == [("app_push", "sent", "sent")]


async def test_caps_per_owner_with_priority_for_service(
    journeys_app, publisher, run_journey, agent, policy
):
    await policy([
        {"scope": "owner", "channel": "app_push", "categories": ["marketing"],
         "period_hours": 24, "limit": 1},
        {"scope": "owner", "channel": "any", "categories": ["service"],
         "period_hours": 24, "limit": 5},
    ])  # fmt: skip
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    await run_journey(segment, times=2)
    await run_journey(segment, category="service")
    assert await decisions(agent, owner["owner_id"]) == [
        ("app_push", "sent", "sent"),
        ("app_push", "suppressed", "cap_owner"),
        ("app_push", "sent", "sent"),  # a service message passes the marketing cap
    ]


def membership(household: uuid.UUID, owner: dict, *, joined: bool) -> HouseholdMembershipChanged:
    return HouseholdMembershipChanged(household_id=household, owner_id=owner["owner_id"],
                                      joined=joined, changed_at=datetime.now(UTC))  # fmt: skip


async def household_outcomes(agent, *members: dict) -> list[str]:
    """What each member's first decision was, sorted: one per household passes a cap of 1."""
    return sorted([(await decisions(agent, member["owner_id"]))[0][2] for member in members])


HOUSEHOLD_CAP = {"scope": "household", "categories": ["marketing"], "period_hours": 24, "limit": 1}


async def test_caps_per_household_and_vehicle(journeys_app, publisher, run_journey, agent, policy):
    await policy([
        HOUSEHOLD_CAP,
        {"scope": "vehicle", "categories": ["service"], "period_hours": 24, "limit": 1},
    ])  # fmt: skip
    segment = unique("seg")
    parent = await make_owner(journeys_app, publisher, segments=[segment])
    child = await make_owner(journeys_app, publisher, segments=[segment])
    household = uuid.uuid4()
    joined = [membership(household, member, joined=True) for member in (parent, child)]
    await deliver(journeys_app, publisher, "household_changed", *joined)
    await run_journey(segment)
    assert await household_outcomes(agent, parent, child) == ["cap_household", "sent"]

    car = unique("car")
    driver = await make_owner(journeys_app, publisher, segments=[car])
    vehicle = {"vehicle_id": str(uuid.uuid4())}
    await run_journey(car, category="service", times=2, context=vehicle)
    assert [d[2] for d in await decisions(agent, driver["owner_id"])] == ["sent", "cap_vehicle"]


@pytest.mark.parametrize("merge_first", [False, True], ids=["merge_last", "merge_first"])
@pytest.mark.parametrize("leave_first", [True, False], ids=["leave_then_join", "join_then_leave"])
async def test_after_a_merge_the_household_cap_counts_the_survivor(
    journeys_app, publisher, run_journey, agent, policy, leave_first, merge_first
):
    """Profile's merge announces the duplicate's leave and the survivor's join (and the merge
    itself); journeys' consumers may apply them in any order, and the survivor must end up in
    the household either way, or the person is contacted as if they lived alone."""
    await policy([HOUSEHOLD_CAP])
    segment = unique("seg")
    partner = await make_owner(journeys_app, publisher, segments=[segment])
    duplicate = await make_owner(journeys_app, publisher, segments=[segment])
    survivor = await make_owner(journeys_app, publisher, segments=[segment])
    household = uuid.uuid4()
    for member in (partner, duplicate):
        await deliver(journeys_app, publisher, "household_changed",
                      membership(household, member, joined=True))  # fmt: skip
    merged = OwnersMerged(
        survivor_owner_id=survivor["owner_id"],
        merged_owner_id=duplicate["owner_id"],
        merged_at=datetime.now(UTC),
    )
    moves = [membership(household, duplicate, joined=False),
             membership(household, survivor, joined=True)]  # fmt: skip
    if not leave_first:
        moves.reverse()
    if merge_first:
        await deliver(journeys_app, publisher, "owners_merged", merged)
    for move in moves:  # one at a time, so that they are applied in this order
        await deliver(journeys_app, publisher, "household_changed", move)
    if not merge_first:
        await deliver(journeys_app, publisher, "owners_merged", merged)

    await run_journey(segment)
    assert await household_outcomes(agent, partner, survivor) == ["cap_household", "sent"]
    assert await messages(journeys_app, duplicate["owner_id"]) == 0


async def test_safety_goes_out_before_marketing(journeys_app, publisher, run_journey, clock):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    await run_journey(segment)
    await run_journey(segment, category="safety")
    database, app = journeys_app.state.database, journeys_app.state
    async with database.transaction() as session:
        await delivery_service.deliver_due(
            session, senders=app.senders, now=clock(), limit=1, rules=app.delivery_rules
        )
    sent = await rows(journeys_app, "SELECT category, status FROM deliveries WHERE owner_id = :o "
                      "ORDER BY category", o=owner["owner_id"])  # fmt: skip
    assert [(r["category"], r["status"]) for r in sent] == [
        ("marketing", "queued"), ("safety", "sent")
    ]  # fmt: skip


async def test_no_push_while_the_vehicle_moves(
    journeys_app, publisher, run_journey, agent, deliveries, clock
):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment], vehicle=True)
    trip = uuid.uuid4()
    started = TripStarted(trip_id=trip, vehicle_id=owner["vehicle_id"], vin=owner["vin"],
                          owner_id=owner["owner_id"], started_at=clock())  # fmt: skip
    await deliver(journeys_app, publisher, "trip_started", started)
    await run_journey(segment)
    await deliveries.run_once()
    clock.advance(minutes=11)
    await deliveries.run_once()
    assert await decisions(agent, owner["owner_id"]) == [
        ("app_push", "sent", "sent"), ("app_push", "deferred", "moving_vehicle")
    ]  # fmt: skip
    log = await agent.ok("GET", f"/owners/{owner['owner_id']}/decisions")
    assert log["items"][0]["step_id"] == "hello" and log["items"][0]["instance_id"]
    ended = TripCompleted(trip_id=trip, vehicle_id=owner["vehicle_id"], vin=owner["vin"],
                          started_at=started.started_at, ended_at=clock(),
                          distance_km=12.0)  # fmt: skip
    await deliver(journeys_app, publisher, "trip_completed", ended)
    clock.advance(minutes=11)
    await deliveries.run_once()
    [row] = await rows(journeys_app, "SELECT status FROM deliveries WHERE owner_id = :o",
                       o=owner["owner_id"])  # fmt: skip
    assert row["status"] == "sent"


async def test_reentry_rules(journeys_app, publisher, run_journey):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    await run_journey(segment, times=2, reentry={"mode": "once"})
    assert await messages(journeys_app, owner["owner_id"]) == 1
    await run_journey(segment, times=2, reentry={"mode": "always", "cooldown_hours": 24})
    assert await messages(journeys_app, owner["owner_id"]) == 2
    await run_journey(segment, times=2, reentry={"mode": "always"}, category="service")
    assert await messages(journeys_app, owner["owner_id"]) == 4


async def test_holdouts_are_never_contacted_and_logged(
    journeys_app, publisher, marketer, steps, agent
):
    segment = unique("seg")
    owners = [await make_owner(journeys_app, publisher, segments=[segment]) for _ in range(30)]
    key = unique("holdout")
    await marketer.activate(message_journey(key, audience={"segment": segment},
                                            holdout_percent=50))  # fmt: skip
    run = await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    await steps.run_once()
    assert run["entered"] + run["held_out"] == 30 and 5 <= run["held_out"] <= 25
    held = 0
    for owner in owners:
        logged = await decisions(agent, owner["owner_id"])
        if logged == [(None, "suppressed", "holdout")]:
            held += 1
            assert await messages(journeys_app, owner["owner_id"]) == 0
    assert held == run["held_out"]


async def test_the_decision_log_is_for_staff(client_as, journeys_app, publisher, agent):
    owner = await make_owner(journeys_app, publisher)
    me = client_as(owner_caller(owner["owner_id"]))
    assert (await me.get(f"/owners/{owner['owner_id']}/decisions")).status_code == 403
    assert (await me.put("/contact-policy", json={})).status_code == 403
    assert await decisions(agent, owner["owner_id"]) == []
