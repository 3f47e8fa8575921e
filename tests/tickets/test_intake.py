"""Cases opened by events: idempotent per source, and the closed loop with feedback."""

import uuid
from datetime import UTC, datetime

from shared.contracts.feedback import DetractorDetected, PostFlagged
from tests.helpers import eventually
from tests.tickets.conftest import events_for, handled, new_owner, scalar


def flagged(post_id: uuid.UUID, owner_id: uuid.UUID, flag: str = "complaint") -> PostFlagged:
    return PostFlagged(
        post_id=post_id, owner_id=owner_id, flag=flag, priority="high", category="smart_key",
        topics=["smart_key"], sentiment=-0.8, language="zh", excerpt="智能钥匙又失灵了",
        flagged_at=datetime.now(UTC),
    )  # fmt: skip


def detractor(owner_id: uuid.UUID, ticket_id: str | None = None) -> DetractorDetected:
    return DetractorDetected(
        response_id=uuid.uuid4(), survey_id=uuid.uuid4(), owner_id=owner_id,
        touchpoint="ticket_resolution", scale="nps", score=2, comment="Still not fixed",
        ticket_id=ticket_id, submitted_at=datetime.now(UTC),
    )  # fmt: skip


async def test_the_same_source_never_opens_two_cases(publisher, tickets_app, client_as):
    owner = new_owner()
    post_id = uuid.uuid4()
    first = await publisher(flagged(post_id, owner.owner_id))
    redelivered = await publisher(None, envelope=first, msg_id=uuid.uuid4())  # same event again
    republished = await publisher(flagged(post_id, owner.owner_id))  # same post, new event
    await eventually(lambda: handled(tickets_app, "post_flagged", first, republished))

    cases = (await client_as(owner).get("/tickets")).json()["items"]
    assert len(cases) == 1 and redelivered.id == first.id
    case = cases[0]
    assert case["kind"] == "complaint" and case["description"] == "智能钥匙又失灵了"
    opened = await scalar(
        tickets_app,
        "SELECT count(*) FROM outbox WHERE subject = 'cem.tickets.ticket.created.v1' "
        "AND envelope->'data'->>'source_id' = :post",
        post=str(post_id),
    )
    assert opened == 1


async def test_a_flagged_post_opens_a_prioritised_linked_complaint(publisher, tickets_app, agent):
    owner = new_owner()
    post_id = uuid.uuid4()
    envelope = await publisher(flagged(post_id, owner.owner_id))
    await eventually(lambda: handled(tickets_app, "post_flagged", envelope))
    case = (await agent.get("/tickets", params={"owner_id": str(owner.owner_id)})).json()["items"][
        0
    ]
    assert case["source_type"] == "feedback.post" and case["source_id"] == str(post_id)
    assert case["priority"] == "high" and case["channel"] == "community"
    assert next(c for c in case["sla"] if c["kind"] == "first_response")["target_minutes"] == 30


async def test_abuse_flags_do_not_open_cases(publisher, tickets_app, client_as):
    owner = new_owner()
    envelope = await publisher(flagged(uuid.uuid4(), owner.owner_id, flag="abuse"))
    await eventually(lambda: handled(tickets_app, "post_flagged", envelope))
    assert (await client_as(owner).get("/tickets")).json()["total"] == 0


async def test_an_integration_opening_twice_from_one_source_gets_the_same_case(client_as):
    from tests.tickets.conftest import new_dealer

    dealer = client_as(new_dealer())
    source = {"type": "dms_lead", "id": "L-1001"}
    fields = {"kind": "lead_follow_up", "subject": "Lead", "source": source}
    first = await dealer.open(**fields)
    again = await dealer.open(expected=200, **fields)
    assert again["id"] == first["id"]


async def test_resolving_closes_the_loop_and_a_detractor_reopens(
    client_as, agent, publisher, tickets_app
):
    owner = new_owner()
    ticket = await client_as(owner).open()
    await agent.move(ticket["id"], "acknowledged")
    await agent.move(ticket["id"], "resolved", "Key fob replaced")
    resolved = [
        e for e in await events_for(tickets_app, ticket["id"])
        if e["type"] == "cem.tickets.ticket.resolved.v1"
    ]  # fmt: skip
    assert len(resolved) == 1
    assert resolved[0]["data"]["owner_id"] == str(owner.owner_id)
    assert resolved[0]["data"]["resolution"] == "Key fob replaced"

    answer = await publisher(detractor(owner.owner_id, ticket["id"]))
    await eventually(lambda: handled(tickets_app, "detractor_detected", answer))
    reopened = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert reopened["status"] == "in_progress" and reopened["reopen_count"] == 1
    assert (await client_as(owner).get("/tickets")).json()["total"] == 1


async def test_a_detractor_without_an_open_case_opens_a_new_one(client_as, publisher, tickets_app):
    owner = new_owner()
    answer = await publisher(detractor(owner.owner_id))
    await eventually(lambda: handled(tickets_app, "detractor_detected", answer))
    cases = (await client_as(owner).get("/tickets")).json()["items"]
    assert len(cases) == 1 and cases[0]["kind"] == "complaint"


async def resolved_case(client_as, agent, owner) -> dict:
    ticket = await client_as(owner).open()
    await agent.move(ticket["id"], "acknowledged")
    await agent.move(ticket["id"], "resolved", "Key fob replaced")
    return ticket


async def test_one_detractor_answer_reopens_once(client_as, agent, publisher, tickets_app):
    owner = new_owner()
    ticket = await resolved_case(client_as, agent, owner)
    answer = detractor(owner.owner_id, ticket["id"])
    first = await publisher(answer)
    again = await publisher(answer)  # feedback published the same answer twice
    await eventually(lambda: handled(tickets_app, "detractor_detected", first, again))

    case = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert case["status"] == "in_progress" and case["reopen_count"] == 1
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    assert [e["action"] for e in timeline].count("reopened") == 1
    assert not any(e["action"] == "detractor" for e in timeline)
    assert (await client_as(owner).get("/tickets")).json()["total"] == 1


async def test_a_detractor_after_the_reopen_period_opens_a_linked_case(
    client_as, agent, publisher, tickets_app, clock
):
    owner = new_owner()
    ticket = await resolved_case(client_as, agent, owner)
    clock.advance(days=15)  # the reopen period is 14 days
    answer = await publisher(detractor(owner.owner_id, ticket["id"]))
    await eventually(lambda: handled(tickets_app, "detractor_detected", answer))

    old = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert old["status"] == "resolved" and old["reopen_count"] == 0
    cases = (await agent.get("/tickets", params={"owner_id": str(owner.owner_id)})).json()
    new = next(c for c in cases["items"] if c["id"] != ticket["id"])
    assert new["related_ticket_id"] == ticket["id"] and new["channel"] == "survey"
    assert new["source_type"] == "feedback.response" and new["priority"] == "high"
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    assert f"case {new['number']} was opened" in timeline[-1]["detail"]


async def test_a_detractor_on_a_closed_case_opens_a_linked_case(
    client_as, agent, publisher, tickets_app
):
    owner = new_owner()
    ticket = await resolved_case(client_as, agent, owner)
    assert (await client_as(owner).move(ticket["id"], "closed")).status_code == 200
    answer = await publisher(detractor(owner.owner_id, ticket["id"]))
    await eventually(lambda: handled(tickets_app, "detractor_detected", answer))
    cases = (await client_as(owner).get("/tickets")).json()["items"]
    assert len(cases) == 2
    assert (await agent.get(f"/tickets/{cases[0]['id']}")).json()["related_ticket_id"] == ticket[
        "id"
    ]


async def test_a_detractor_on_a_case_still_open_is_noted_on_it(
    client_as, agent, publisher, tickets_app
):
    owner = new_owner()
    ticket = await client_as(owner).open()
    answer = await publisher(detractor(owner.owner_id, ticket["id"]))
    await eventually(lambda: handled(tickets_app, "detractor_detected", answer))
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    assert timeline[-1]["action"] == "detractor" and "NPS 2" in timeline[-1]["detail"]
    assert (await client_as(owner).get("/tickets")).json()["total"] == 1
