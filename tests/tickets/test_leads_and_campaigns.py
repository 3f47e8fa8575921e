"""Cases opened from profile's leads and journeys' requests: idempotent per source event,
linked to it, at the right dealer; and the lead follow-up scenario (DESIGN.md, 6)."""

import uuid
from datetime import UTC, datetime

from shared.contracts.journeys import TicketRequested
from shared.contracts.profile import LeadCreated
from tests.helpers import eventually
from tests.tickets.conftest import (
    MONDAY_9AM_SHANGHAI,
    handled,
    new_dealer,
    new_owner,
    scalar,
    unique,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
TUESDAY_9AM_SHANGHAI = MONDAY_9AM_SHANGHAI.replace(day=3)
ALERT = uuid.uuid4()


def lead(dealer_id: uuid.UUID, kind: str = "lead", **fields) -> LeadCreated:
    values = {"lead_id": uuid.uuid4(), "kind": kind, "dealer_id": dealer_id, "model": "ET7",
              "channel": "web", "created_at": datetime.now(UTC)}  # fmt: skip
    return LeadCreated(**(values | fields))


def campaign_request(owner_id: uuid.UUID, dealer_id: uuid.UUID, **fields) -> TicketRequested:
    """A journey's request for a quality alert's target vehicle, as journeys sends it."""
    vehicle_id = fields.pop("vehicle_id", uuid.uuid4())
    values = {"request_id": uuid.uuid4(), "journey_key": "fan_controller_campaign",
              "kind": "proactive_service", "category": "cooling_fan", "priority": "high",
              "owner_id": owner_id, "vehicle_id": vehicle_id, "dealer_id": dealer_id,
              "description": "Batch FC-2291 fails past 20,000 km; book an inspection.",
              "source_type": "quality_alert", "source_id": f"{ALERT}:{vehicle_id}",
              "requested_at": datetime.now(UTC)}  # fmt: skip
    return TicketRequested(**(values | fields))


async def dead_lettered(app, envelope) -> bool:
    found = await scalar(
        app, "SELECT count(*) FROM dead_letters WHERE event_id = :id", id=str(envelope.id)
    )
    return found == 1


async def only_case(client) -> dict:
    cases = (await client.get("/tickets")).json()["items"]
    assert len(cases) == 1, cases
    return cases[0]


async def test_a_lead_opens_one_follow_up_case_at_its_dealer(client_as, publisher, tickets_app):
    dealer, owner = new_dealer(), new_owner()
    event = lead(dealer.dealer_id, owner_id=owner.owner_id)
    first = await publisher(event)
    again = await publisher(event)  # the same lead published twice: a new envelope id
    await eventually(lambda: handled(tickets_app, "lead_created", first, again))

    case = await only_case(client_as(dealer))
    assert case["kind"] == "lead_follow_up" and case["dealer_id"] == str(dealer.dealer_id)
    assert case["source_type"] == "profile.lead" and case["source_id"] == str(event.lead_id)
    assert case["source_context"] == {"model": "ET7", "channel": "web"}
    assert case["channel"] == "web" and case["subject"] == "New lead: ET7"
    assert (await only_case(client_as(owner)))["id"] == case["id"]
    assert (await client_as(new_dealer()).get(f"/tickets/{case['id']}")).status_code == 404


async def test_a_test_drive_request_keeps_its_slot(client_as, publisher, tickets_app):
    dealer = new_dealer()
    slot = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)
    envelope = await publisher(lead(dealer.dealer_id, "test_drive", requested_slot=slot))
    await eventually(lambda: handled(tickets_app, "lead_created", envelope))
    case = await only_case(client_as(dealer))
    assert case["kind"] == "test_drive"
    assert datetime.fromisoformat(case["requested_slot"]) == slot


async def test_an_unknown_lead_kind_is_dead_lettered(client_as, publisher, tickets_app):
    dealer = new_dealer()
    envelope = await publisher(lead(dealer.dealer_id, "brochure"))
    await eventually(lambda: dead_lettered(tickets_app, envelope))
    assert (await client_as(dealer).get("/tickets")).json()["total"] == 0


async def lead_desk(client_as, admin, dealer) -> str:
    """The dealer's opening hours and general manager, and its sales queue with a manager,
    all as data; leads at this dealer route to that queue."""
    hours = {"time_zone": "Asia/Shanghai", "manager": "gm@dealer",
             "weekly_hours": {day: [["09:00", "18:00"]] for day in WEEKDAYS}}  # fmt: skip
    response = await client_as(dealer).put(f"/dealers/{dealer.dealer_id}/settings", json=hours)
    assert response.status_code == 200, response.text
    queue = unique("sales")
    await admin.post("/queues", json={"key": queue, "name": "Sales", "manager": "sales.lead@q"})
    rule = {"name": "leads to the dealer's sales desk", "position": 1, "queue": queue,
            "conditions": {"kinds": ["lead_follow_up", "test_drive"],
                           "dealer_ids": [str(dealer.dealer_id)]}}  # fmt: skip
    assert (await admin.post("/routing-rules", json=rule)).status_code == 201
    return queue


async def test_a_lead_not_contacted_in_time_reminds_the_managers_and_escalates(
    admin, client_as, publisher, tickets_app, clock, sla_worker
):
    dealer = new_dealer()
    queue = await lead_desk(client_as, admin, dealer)
    clock.set(MONDAY_9AM_SHANGHAI.replace(hour=9, minute=30))  # Monday 17:30 in Shanghai
    envelope = await publisher(lead(dealer.dealer_id))
    await eventually(lambda: handled(tickets_app, "lead_created", envelope))
    client = client_as(dealer)
    case = await only_case(client)
    assert case["queue"] == queue
    first = next(c for c in case["sla"] if c["kind"] == "first_response")
    assert datetime.fromisoformat(first["due_at"]) == TUESDAY_9AM_SHANGHAI.replace(minute=30)

    clock.set(TUESDAY_9AM_SHANGHAI.replace(minute=31))  # the dealer let the lead sit
    await sla_worker.run_once()
    escalated = (await client.get(f"/tickets/{case['id']}")).json()
    assert escalated["escalation_level"] == 1 and escalated["priority"] == "high"
    assert {"sales.lead@q", "gm@dealer"} <= set(escalated["watchers"])
    breach = await scalar(
        tickets_app,
        "SELECT envelope->'data' FROM outbox WHERE subject = 'cem.tickets.ticket.sla_breached.v1'"
        " AND envelope->>'subject' = :id",
        id=case["id"],
    )
    assert breach["remind"] == ["sales.lead@q", "gm@dealer"]
    assert breach["dealer_id"] == str(dealer.dealer_id)


async def test_a_lead_contacted_in_time_does_not_escalate(
    admin, client_as, publisher, tickets_app, clock, sla_worker
):
    dealer = new_dealer()
    await lead_desk(client_as, admin, dealer)
    clock.set(MONDAY_9AM_SHANGHAI)
    envelope = await publisher(lead(dealer.dealer_id))
    await eventually(lambda: handled(tickets_app, "lead_created", envelope))
    client = client_as(dealer)
    case = await only_case(client)
    clock.advance(minutes=20)
    called = await client.post(f"/tickets/{case['id']}/transitions", json={"to": "acknowledged"})
    assert called.status_code == 200
    clock.advance(days=1)
    await sla_worker.run_once()
    assert (await client.get(f"/tickets/{case['id']}")).json()["escalation_level"] == 0


async def test_a_campaign_request_opens_one_proactive_case_linked_to_its_alert(
    client_as, publisher, tickets_app
):
    dealer, owner = new_dealer(), new_owner()
    event = campaign_request(owner.owner_id, dealer.dealer_id)
    first = await publisher(event)
    again = await publisher(event)
    await eventually(lambda: handled(tickets_app, "ticket_requested", first, again))

    case = await only_case(client_as(dealer))
    assert case["kind"] == "proactive_service" and case["priority"] == "high"
    assert case["source_type"] == "quality_alert"
    assert case["source_id"] == f"{ALERT}:{event.vehicle_id}"
    assert case["source_context"] == {
        "journey_key": "fan_controller_campaign",
        "request_id": str(event.request_id),
    }
    mine = await only_case(client_as(owner))
    assert mine["id"] == case["id"] and "source_context" not in mine
    assert (await client_as(new_owner()).get(f"/tickets/{case['id']}")).status_code == 404


async def test_each_owner_of_one_campaign_gets_their_own_case(client_as, publisher, tickets_app):
    dealer = new_dealer()
    events = [
        await publisher(campaign_request(new_owner().owner_id, dealer.dealer_id)) for _ in range(3)
    ]
    await eventually(lambda: handled(tickets_app, "ticket_requested", *events))
    assert (await client_as(dealer).get("/tickets")).json()["total"] == 3


async def test_two_journeys_acting_on_one_target_vehicle_share_its_case(
    client_as, publisher, tickets_app
):
    dealer, owner = new_dealer(), new_owner()
    campaign = campaign_request(owner.owner_id, dealer.dealer_id)
    reminder = campaign_request(
        owner.owner_id, dealer.dealer_id, vehicle_id=campaign.vehicle_id, journey_key="reminder"
    )
    events = [await publisher(campaign), await publisher(reminder)]
    await eventually(lambda: handled(tickets_app, "ticket_requested", *events))
    assert (await only_case(client_as(dealer)))["source_context"]["journey_key"] == (
        "fan_controller_campaign"
    )


async def test_a_journey_request_without_a_source_is_keyed_by_the_request(
    client_as, publisher, tickets_app
):
    dealer, owner = new_dealer(), new_owner()
    event = campaign_request(
        owner.owner_id, dealer.dealer_id, kind="service_booking", source_type="journey",
        source_id=None, category=None, priority="normal",
    )  # fmt: skip
    envelopes = [await publisher(event), await publisher(event)]
    await eventually(lambda: handled(tickets_app, "ticket_requested", *envelopes))
    case = await only_case(client_as(dealer))
    assert case["kind"] == "service_booking"
    assert (case["source_type"], case["source_id"]) == (
        "journeys.ticket_request",
        str(event.request_id),
    )


async def test_a_request_of_an_unknown_kind_is_dead_lettered(client_as, publisher, tickets_app):
    owner = new_owner()
    envelope = await publisher(campaign_request(owner.owner_id, uuid.uuid4(), kind="spa_day"))
    await eventually(lambda: dead_lettered(tickets_app, envelope))
    assert (await client_as(owner).get("/tickets")).json()["total"] == 0
