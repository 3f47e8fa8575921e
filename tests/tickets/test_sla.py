"""SLA clocks through the service: deadlines, pauses, breaches and escalation.

Time is the app's clock, moved by the test; the SLA worker is run on demand.
"""

from datetime import datetime

from services.tickets.domain import TicketStatus
from tests.tickets.conftest import MONDAY_9AM_SHANGHAI, events_for, last_seq, new_dealer, unique


def clock_of(ticket: dict, kind: str) -> dict:
    return next(clock for clock in ticket["sla"] if clock["kind"] == kind)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_high_priority_complaint_must_be_answered_in_30_minutes(agent, clock):
    ticket = await agent.open(priority="high")
    first = clock_of(ticket, "first_response")
    assert first["target_minutes"] == 30
    assert (at(first["due_at"]) - clock.now).total_seconds() == 1800


async def test_a_breach_escalates_once(admin, agent, clock, sla_worker, tickets_app):
    queue = unique("first_line")
    await admin.post("/queues", json={"key": queue, "name": "First line", "manager": "lead@cx"})
    category = unique("smart_key")
    await admin.post(
        "/routing-rules",
        json={"name": "smart key", "position": 10, "conditions": {"categories": [category]},
              "queue": queue},
    )  # fmt: skip
    ticket = await agent.open(priority="high", category=category)
    seq = await last_seq(tickets_app)

    clock.advance(minutes=29)
    await sla_worker.run_once()
    assert (await agent.get(f"/tickets/{ticket['id']}")).json()["priority"] == "high"

    clock.advance(minutes=2)
    await sla_worker.run_once()
    await sla_worker.run_once()  # a second pass (or a second worker) fires nothing more
    escalated = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert escalated["priority"] == "urgent"
    assert escalated["escalation_level"] == 1
    assert "lead@cx" in escalated["watchers"]
    assert clock_of(escalated, "first_response")["breached_at"] is not None
    assert clock_of(escalated, "resolution")["breached_at"] is None

    breaches = [e for e in await events_for(tickets_app, ticket["id"], since=seq)]
    assert [e["type"] for e in breaches] == ["cem.tickets.ticket.sla_breached.v1"]
    assert breaches[0]["data"]["remind"] == ["lead@cx"]
    assert breaches[0]["data"]["clock"] == "first_response"
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    breach = next(entry for entry in timeline if entry["action"] == "sla_breached")
    assert "reminded lead@cx" in breach["detail"]
    assert "priority high → urgent" in breach["detail"]


async def test_a_timely_answer_stops_the_first_response_clock(agent, clock, sla_worker):
    ticket = await agent.open(priority="high")
    clock.advance(minutes=10)
    reply = await agent.post(f"/tickets/{ticket['id']}/comments", json={"body": "On it."})
    assert reply.status_code == 201
    clock.advance(hours=2)
    await sla_worker.run_once()
    answered = (await agent.get(f"/tickets/{ticket['id']}")).json()
    first = clock_of(answered, "first_response")
    assert first["met"] is True and first["breached_at"] is None
    assert answered["priority"] == "high"
    assert answered["first_responded_at"] is not None


async def test_an_internal_note_is_not_a_first_response(agent):
    ticket = await agent.open(priority="high")
    await agent.post(
        f"/tickets/{ticket['id']}/comments", json={"body": "check logs", "visibility": "internal"}
    )
    assert (await agent.get(f"/tickets/{ticket['id']}")).json()["first_responded_at"] is None


async def test_waiting_on_the_owner_stops_the_clock(agent, client_as, clock, sla_worker):
    ticket = await agent.open(priority="high")
    await agent.move(ticket["id"], "acknowledged")
    await agent.move(ticket["id"], "in_progress")
    clock.advance(hours=2)
    waiting = (await agent.move(ticket["id"], "waiting_on_owner", "need photos")).json()
    assert waiting["pause_reason"] == "waiting_on_owner"
    assert clock_of(waiting, "resolution")["paused"] is True
    assert clock_of(waiting, "resolution")["due_at"] is None

    clock.advance(days=3)  # far beyond the 8-hour resolution target
    await sla_worker.run_once()
    still = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert clock_of(still, "resolution")["breached_at"] is None

    resumed = (await agent.move(ticket["id"], "in_progress", "photos received")).json()
    due = at(clock_of(resumed, "resolution")["due_at"])
    assert (due - clock.now).total_seconds() == 6 * 3600  # 8 h target, 2 h already used
    assert resumed["pause_reason"] is None


async def test_an_owner_reply_ends_waiting_on_the_owner(agent, client_as):
    from tests.tickets.conftest import new_owner

    owner = new_owner()
    ticket = await client_as(owner).open()
    await agent.move(ticket["id"], "acknowledged")
    await agent.move(ticket["id"], "waiting_on_owner")
    reply = await client_as(owner).post(
        f"/tickets/{ticket['id']}/comments", json={"body": "Here are the photos"}
    )
    assert reply.status_code == 201
    back = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert back["status"] == TicketStatus.IN_PROGRESS
    assert back["pause_reason"] is None


async def test_workshop_pauses(agent, clock, sla_worker):
    ticket = await agent.open(priority="high")
    await agent.move(ticket["id"], "acknowledged")
    await agent.move(ticket["id"], "in_progress")
    paused = await agent.post(
        f"/tickets/{ticket['id']}/pause", json={"reason": "parts_back_order", "note": "ETA 2 wk"}
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["pause_reason"] == "parts_back_order"
    again = await agent.post(f"/tickets/{ticket['id']}/pause", json={"reason": "warranty_approval"})
    assert again.status_code == 409 and again.json()["code"] == "cannot_pause"

    clock.advance(days=14)
    await sla_worker.run_once()
    assert (await agent.get(f"/tickets/{ticket['id']}")).json()["escalation_level"] == 0

    resumed = await agent.post(f"/tickets/{ticket['id']}/resume")
    assert resumed.status_code == 200
    assert clock_of(resumed.json(), "resolution")["paused"] is False
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    assert [e["detail"] for e in timeline if e["action"] in ("paused", "resumed")] == [
        "parts_back_order",
        "parts_back_order",
    ]
    assert (await agent.post(f"/tickets/{ticket['id']}/resume")).status_code == 409


async def test_waiting_on_the_owner_is_a_status_not_a_workshop_pause(agent):
    ticket = await agent.open()
    await agent.move(ticket["id"], "acknowledged")
    response = await agent.post(
        f"/tickets/{ticket['id']}/pause", json={"reason": "waiting_on_owner"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.reason"


async def test_a_lead_not_followed_up_in_business_hours_reminds_the_dealers_manager(
    client_as, clock, sla_worker, tickets_app
):
    dealer = new_dealer()
    client = client_as(dealer)
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    hours = {"time_zone": "Asia/Shanghai", "manager": "sales.manager@dealer",
             "weekly_hours": {day: [["09:00", "18:00"]] for day in weekdays}}  # fmt: skip
    assert (
        await client.put(f"/dealers/{dealer.dealer_id}/settings", json=hours)
    ).status_code == 200

    clock.set(MONDAY_9AM_SHANGHAI.replace(hour=9, minute=30))  # Monday 17:30 in Shanghai
    lead = await client.open(kind="lead_follow_up", subject="Wants an ET7", description="Call")
    due = at(clock_of(lead, "first_response")["due_at"])
    assert due == MONDAY_9AM_SHANGHAI.replace(day=3, hour=1, minute=30)  # Tuesday 09:30 local

    clock.set(MONDAY_9AM_SHANGHAI.replace(day=3, hour=1, minute=29))
    await sla_worker.run_once()
    assert (await client.get(f"/tickets/{lead['id']}")).json()["escalation_level"] == 0

    clock.set(MONDAY_9AM_SHANGHAI.replace(day=3, hour=1, minute=31))
    await sla_worker.run_once()
    escalated = (await client.get(f"/tickets/{lead['id']}")).json()
    assert escalated["escalation_level"] == 1
    assert escalated["priority"] == "high"
    assert "sales.manager@dealer" in escalated["watchers"]
    breach = (await events_for(tickets_app, lead["id"]))[-1]
    assert breach["data"]["remind"] == ["sales.manager@dealer"]
