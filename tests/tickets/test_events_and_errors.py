"""One outbox event per state change, carrying what consumers need; problem responses."""

from tests.tickets.conftest import events_for, last_seq, new_owner, outbox_count


async def event_types(app, ticket_id: str, since: int) -> list[str]:
    return [e["type"].split(".")[3] for e in await events_for(app, ticket_id, since=since)]


async def test_each_change_is_announced_once(client_as, agent, tickets_app):
    owner = new_owner()
    seq = await last_seq(tickets_app)
    ticket = await client_as(owner).open()
    assert await event_types(tickets_app, ticket["id"], seq) == ["created"]

    for status in ("acknowledged", "in_progress", "waiting_on_owner", "in_progress"):
        seq = await last_seq(tickets_app)
        assert (await agent.move(ticket["id"], status)).status_code == 200
        assert await event_types(tickets_app, ticket["id"], seq) == ["status_changed"]

    seq = await last_seq(tickets_app)
    await agent.move(ticket["id"], "resolved")
    assert await event_types(tickets_app, ticket["id"], seq) == ["status_changed", "resolved"]

    changed = (await events_for(tickets_app, ticket["id"], since=seq))[0]
    assert changed["ownerid"] == str(owner.owner_id)
    assert changed["data"]["status_label"] == {"en": "Resolved", "zh": "已解决"}


async def test_comments_and_refusals_announce_nothing(agent, tickets_app):
    ticket = await agent.open()
    before = await outbox_count(tickets_app)
    await agent.post(f"/tickets/{ticket['id']}/comments", json={"body": "note"})
    assert (await agent.move(ticket["id"], "closed")).status_code == 409
    assert await outbox_count(tickets_app) == before


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "code", "request_id"} <= body.keys()
    assert body["request_id"] == response.headers["x-request-id"]
    if field:
        assert field in [error["field"] for error in body["errors"]], body
    return body


async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(agent, tickets_app):
    before = await outbox_count(tickets_app)
    cases = [
        ({"kind": "spam", "subject": "s", "description": "d"}, "body.kind"),
        ({"kind": "complaint", "subject": "", "description": "d"}, "body.subject"),
        ({"kind": "test_drive", "subject": "s", "description": "d"}, "body.requested_slot"),
        ({"kind": "inquiry", "subject": "s", "description": "d",
          "requested_slot": "2026-03-03T10:00:00Z"}, "body.requested_slot"),
        ({"kind": "complaint", "subject": "s", "description": "d", "colour": "red"}, "body.colour"),
    ]  # fmt: skip
    for body, field in cases:
        assert_problem(await agent.post("/tickets", json=body), 422, field)
    malformed = await agent.post(
        "/tickets", content=b'{"kind": ', headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 422, "body")
    assert await outbox_count(tickets_app) == before


async def test_illegal_moves_and_unknown_cases_are_problems(agent):
    ticket = await agent.open()
    body = assert_problem(await agent.move(ticket["id"], "resolved"), 409)
    assert body["code"] == "illegal_transition"
    assert "a new case cannot move to resolved; allowed: acknowledged" in body["detail"]
    missing = "00000000-0000-0000-0000-000000000000"
    assert assert_problem(await agent.get(f"/tickets/{missing}"), 404)["code"] == "ticket_not_found"
    assert_problem(await agent.get("/nowhere"), 404)
    assert_problem(await agent.delete("/tickets"), 405)


async def test_a_booking_carries_its_requested_slot(client_as):
    booking = await client_as(new_owner()).open(
        kind="service_booking", subject="Annual service", requested_slot="2026-03-10T02:00:00Z"
    )
    assert booking["requested_slot"] == "2026-03-10T02:00:00Z"
