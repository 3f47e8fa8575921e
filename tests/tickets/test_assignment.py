"""Reassignment between queues and agents, with history and an event; agents' work lists."""

from shared.auth import Caller, CallerKind, StaffRole
from tests.tickets.conftest import events_for, last_seq, new_dealer, new_owner, unique


def agent_named(name: str) -> Caller:
    return Caller(kind=CallerKind.STAFF, subject=name, roles=frozenset({StaffRole.CX_AGENT}))


async def software_queue(admin, *members: str) -> str:
    key = unique("software")
    body = {"key": key, "name": "Product software", "members": list(members)}
    response = await admin.post("/queues", json=body)
    assert response.status_code == 201 and response.json()["members"] == list(members)
    return key


async def test_an_agent_moves_a_case_to_another_queue_and_agent(
    admin, agent, client_as, tickets_app
):
    owner = new_owner()
    queue = await software_queue(admin, "li@software", "chen@software")
    ticket = await client_as(owner).open()
    seq = await last_seq(tickets_app)

    response = await agent.post(
        f"/tickets/{ticket['id']}/assignment",
        json={"queue": queue, "assignee": "li@software", "reason": "key firmware bug"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["queue"] == queue and response.json()["assignee"] == "li@software"

    [event] = await events_for(tickets_app, ticket["id"], since=seq)
    assert event["type"] == "cem.tickets.ticket.reassigned.v1"
    assert event["data"]["previous_queue"] == "first_line" and event["data"]["queue"] == queue
    assert event["data"]["assignee"] == "li@software"
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    assert timeline[-1]["action"] == "reassigned"
    assert timeline[-1]["detail"] == (
        f"queue first_line → {queue}; assignee nobody → li@software; key firmware bug"
    )
    owner_view = (await client_as(owner).get(f"/tickets/{ticket['id']}/timeline")).json()
    assert "reassigned" not in [entry["action"] for entry in owner_view]

    unassigned = await agent.post(f"/tickets/{ticket['id']}/assignment", json={"assignee": None})
    assert unassigned.json()["assignee"] is None and unassigned.json()["queue"] == queue


async def test_bad_reassignments_change_nothing(admin, agent):
    queue = await software_queue(admin, "li@software")
    ticket = await agent.open()
    bad = [
        ({"queue": unique("missing")}, "body.queue"),
        ({"queue": queue, "assignee": "stranger@x"}, "body.assignee"),
        ({"reason": "no target"}, "body"),
        ({"queue": "Not A Key"}, "body.queue"),
    ]
    for body, field in bad:
        response = await agent.post(f"/tickets/{ticket['id']}/assignment", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    unchanged = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert unchanged["queue"] == "first_line" and unchanged["assignee"] is None


async def test_a_closed_case_cannot_be_reassigned(agent):
    ticket = await agent.open()
    for status in ("acknowledged", "resolved", "closed"):
        await agent.move(ticket["id"], status)
    response = await agent.post(f"/tickets/{ticket['id']}/assignment", json={"assignee": "x"})
    assert response.status_code == 409 and "closed" in response.json()["detail"]


async def test_a_dealer_assigns_its_own_cases_within_their_queue(admin, client_as):
    dealer, other = new_dealer(), new_dealer()
    mine = client_as(dealer)
    ticket = await mine.open(kind="lead_follow_up", subject="Lead", description="Call back")
    given = await mine.post(f"/tickets/{ticket['id']}/assignment", json={"assignee": "wang@sales"})
    assert given.status_code == 200 and given.json()["assignee"] == "wang@sales"

    queue = await software_queue(admin)
    moved = await mine.post(f"/tickets/{ticket['id']}/assignment", json={"queue": queue})
    assert moved.status_code == 403
    stolen = await client_as(other).post(
        f"/tickets/{ticket['id']}/assignment", json={"assignee": "spy"}
    )
    assert stolen.status_code == 404
    assert (await mine.get(f"/tickets/{ticket['id']}")).json()["assignee"] == "wang@sales"


async def test_an_owner_cannot_reassign_their_case(client_as):
    owner = new_owner()
    ticket = await client_as(owner).open()
    response = await client_as(owner).post(
        f"/tickets/{ticket['id']}/assignment", json={"assignee": "me"}
    )
    assert response.status_code == 403


async def test_an_agent_sees_the_cases_of_their_queues_and_those_assigned_to_them(
    admin, agent, client_as
):
    li, chen = agent_named(unique("li")), agent_named(unique("chen"))
    queue = await software_queue(admin, li.subject)
    in_queue = await agent.open()
    await agent.post(f"/tickets/{in_queue['id']}/assignment", json={"queue": queue})
    handed = await agent.open()
    await agent.post(f"/tickets/{handed['id']}/assignment", json={"assignee": li.subject})
    await agent.open()  # someone else's work

    work = (await client_as(li).get("/tickets", params={"mine": "true"})).json()
    assert {t["id"] for t in work["items"]} == {in_queue["id"], handed["id"]}
    assert (await client_as(chen).get("/tickets", params={"mine": "true"})).json()["total"] == 0
    by_assignee = await agent.get("/tickets", params={"assignee": li.subject})
    assert [t["id"] for t in by_assignee.json()["items"]] == [handed["id"]]
