"""Scenario 1, closed-loop complaint: a community post about a failing smart key becomes a
high-priority case in first-line customer service (30-minute first response) at the dealer in
the owner's city, with the product software team watching; it moves on to that dealer's
service station, the owner sees it received, followed up and resolved, and is then asked for
an NPS score. A case whose first response is late escalates to the dealer's manager."""

from dataclasses import dataclass
from datetime import UTC, datetime

from tests.e2e.conftest import ADMIN, Dealer
from tests.e2e.support import (
    COMMUNITY_CONNECTOR,
    CX_AGENT,
    dealer_in,
    dealer_manager,
    getter,
    items_where,
    known_to_tickets,
    ok,
    owner_with_car,
    sla_policy,
    survey_with_trigger,
    unique,
    wait_for,
)

SOFTWARE_TEAM = "product_software"
MANAGER = "service-manager@dealer.test"
COMPLAINT = "My smart key keeps failing, the car would not unlock again this morning. Terrible!"
COMPLAINT_ZH = "智能钥匙又失灵了，早上车门打不开，太失望了"  # noqa: RUF001


async def post(gateway, owner, body: str) -> str:
    """The community connector forwards the owner's post; returns the post's id."""
    item = {
        "source": "community",
        "source_id": unique("post"),
        "body": body,
        "owner_id": owner.id,
        "vin": owner.vin,
        "published_at": datetime.now(UTC).isoformat(),
    }
    result = ok(
        await gateway.post(
            "/v1/feedback/posts/batches", json={"posts": [item]}, headers=COMMUNITY_CONNECTOR
        )
    )
    assert result["flagged"] == 1, result
    return result["post_ids"][0]


async def case_of_post(gateway, owner, post_id: str) -> dict:
    found = await items_where(
        gateway,
        "/v1/tickets/tickets",
        ADMIN,
        lambda case: case["source_id"] == post_id,
        owner_id=owner.id,
    )
    return found[0]


async def configure_routing(gateway, city: str, station: str) -> None:
    """First-line customer service takes complaints from the city, at the city's dealer; the
    product software team watches them; the dealer's service station is a queue of its own."""
    for key, name in (("first_line", "First-line customer service"), (station, "Service")):
        ok(await gateway.post("/v1/tickets/queues", json={"key": key, "name": name},
                              headers=ADMIN), 201, 409)  # fmt: skip
    conditions = {"kinds": ["complaint"], "cities": [city]}
    rules = [
        {"name": f"{city} complaints", "position": 10, "conditions": conditions,
         "queue": "first_line", "dealer_strategy": "owner_city"},
        {"name": f"{city} software watches", "position": 11,
         "conditions": conditions | {"categories": ["smart_key"]}, "watchers": [SOFTWARE_TEAM]},
    ]  # fmt: skip
    for rule in rules:
        ok(await gateway.post("/v1/tickets/routing-rules", json=rule, headers=ADMIN), 201)


async def owner_sees(gateway, owner, case_id: str, label: str) -> None:
    read = getter(gateway, f"/v1/tickets/tickets/{case_id}", owner.headers)
    seen = await wait_for(read, lambda case: case and case["status_label"]["en"] == label)
    assert "queue" not in seen and "watchers" not in seen  # the owner's view is plain


async def move(gateway, case_id: str, to: str, headers) -> dict:
    path = f"/v1/tickets/tickets/{case_id}/transitions"
    return ok(await gateway.post(path, json={"to": to}, headers=headers))


@dataclass
class Desk:
    """The scenario's dealer in a city of its own with its manager, the city's routing, and the
    case nobody answers."""

    city: str
    station: str
    dealer: Dealer
    unanswered: dict


async def unanswered_complaint(gateway) -> Desk:
    """A complaint opened under a 1-minute first response that nobody answers: opened as the
    package starts (tests/e2e/conftest.py), so its breach comes while other scenarios run."""
    city, station = unique("City"), unique("service_station")
    dealer, _elsewhere = await dealer_in(gateway, city), await dealer_in(gateway, unique("City"))
    await dealer_manager(gateway, dealer, MANAGER)
    await configure_routing(gateway, city, station)
    late = await owner_with_car(gateway, dealer, city=city, name="Zhao Lei", language="zh")
    await known_to_tickets(gateway, late, city)
    await sla_policy(gateway, kind="complaint", priority="high", first=1, resolution=5)
    unanswered = await case_of_post(gateway, late, await post(gateway, late, COMPLAINT_ZH))
    await sla_policy(gateway, kind="complaint", priority="high", first=30, resolution=2880)
    return Desk(city, station, dealer, unanswered)


async def test_a_smart_key_complaint_is_routed_followed_up_resolved_and_surveyed(gateway, overdue):
    desk: Desk = overdue.complaint
    await survey_with_trigger(
        gateway, key="resolution_nps", kind="nps", touchpoint="ticket_resolved"
    )
    owner = await owner_with_car(gateway, desk.dealer, city=desk.city)
    await known_to_tickets(gateway, owner, desk.city)

    case = await case_of_post(gateway, owner, await post(gateway, owner, COMPLAINT))
    assert (case["kind"], case["priority"], case["channel"]) == ("complaint", "high", "community")
    assert (case["queue"], case["dealer_id"], case["category"]) == (
        "first_line", desk.dealer.id, "smart_key"
    )  # fmt: skip
    assert SOFTWARE_TEAM in case["watchers"]
    clocks = {clock["kind"]: clock for clock in case["sla"]}
    assert clocks["first_response"]["target_minutes"] == 30
    await owner_sees(gateway, owner, case["id"], "Submitted")

    await move(gateway, case["id"], "acknowledged", CX_AGENT)
    await owner_sees(gateway, owner, case["id"], "Received")
    handover = {"queue": desk.station, "reason": "smart key diagnosis at the service station"}
    moved = ok(await gateway.post(f"/v1/tickets/tickets/{case['id']}/assignment",
                                  json=handover, headers=CX_AGENT))  # fmt: skip
    assert moved["queue"] == desk.station and moved["first_responded_at"] is not None
    await move(gateway, case["id"], "in_progress", desk.dealer.headers)
    await owner_sees(gateway, owner, case["id"], "Engineer following up")
    await move(gateway, case["id"], "resolved", desk.dealer.headers)
    await owner_sees(gateway, owner, case["id"], "Resolved")
    timeline = ok(await gateway.get(f"/v1/tickets/tickets/{case['id']}/timeline",
                                    headers=owner.headers))  # fmt: skip
    labels = [entry["status_label"]["en"] for entry in timeline if entry["status_label"]]
    assert labels[-3:] == ["Received", "Engineer following up", "Resolved"], labels

    invitations = await items_where(
        gateway, "/v1/feedback/invitations", owner.headers,
        lambda invitation: invitation["ticket_id"] == case["id"],
    )  # fmt: skip
    assert invitations[0]["touchpoint"] == "ticket_resolved"
    assert invitations[0]["status"] == "sent"

    escalated = await wait_for(
        getter(gateway, f"/v1/tickets/tickets/{desk.unanswered['id']}", ADMIN),
        lambda case: case and case["escalation_level"] >= 1,
        within_seconds=120,
    )
    assert escalated["priority"] == "urgent" and MANAGER in escalated["watchers"]
    breached = {clock["kind"]: clock for clock in escalated["sla"]}["first_response"]
    assert breached["breached_at"] is not None
    history = ok(await gateway.get(f"/v1/tickets/tickets/{desk.unanswered['id']}/timeline",
                                   headers=ADMIN))  # fmt: skip
    assert "sla_breached" in [entry["action"] for entry in history]
