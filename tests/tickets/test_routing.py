"""Routing rules as data: queue, dealer (by the owner's city or servicing dealer), watchers."""

import uuid
from datetime import date

from shared.auth import Caller, CallerKind
from shared.contracts.profile import (
    DealerRegistered,
    OwnerRegistered,
    VehicleOwnershipChanged,
    VehicleRegistered,
)
from tests.helpers import eventually
from tests.tickets.conftest import events_for, handled, new_dealer, new_owner, unique


async def test_a_complaint_goes_to_the_dealer_in_the_owners_city_with_the_product_team_watching(
    admin, client_as, publisher, tickets_app
):
    city, category, queue = unique("city"), unique("smart_key"), unique("dealer_service")
    dealer_id = uuid.uuid4()
    events = [
        await publisher(DealerRegistered(dealer_id=dealer_id, code=unique("D")[:30], name="Pudong",
                                         city=city, region="East")),
        await publisher(DealerRegistered(dealer_id=uuid.uuid4(), code=unique("D")[:30],
                                         name="Elsewhere", city=unique("city"), region="West")),
    ]  # fmt: skip
    owner = new_owner()
    owner_event = await publisher(OwnerRegistered(owner_id=owner.owner_id, city=city))
    await eventually(lambda: handled(tickets_app, "dealer_registered", *events))
    await eventually(lambda: handled(tickets_app, "owner_registered", owner_event))

    assert (await admin.post("/queues", json={"key": queue, "name": "Service"})).status_code == 201
    rules = [
        {"name": "to the owner's dealer", "position": 1, "queue": queue,
         "dealer_strategy": "owner_city", "conditions": {"categories": [category]}},
        {"name": "software team watches", "position": 2, "watchers": ["product_software"],
         "conditions": {"categories": [category], "kinds": ["complaint"]}},
    ]  # fmt: skip
    for rule in rules:
        response = await admin.post("/routing-rules", json=rule)
        assert response.status_code == 201, response.text

    ticket = await client_as(owner).open(category=category, priority="high")
    staff_view = (await admin.get(f"/tickets/{ticket['id']}")).json()
    assert staff_view["queue"] == queue
    assert staff_view["dealer_id"] == str(dealer_id)
    assert staff_view["watchers"] == ["product_software"]

    dealer = Caller(kind=CallerKind.DEALER, subject="d", dealer_id=dealer_id)
    assert (await client_as(dealer).get(f"/tickets/{ticket['id']}")).status_code == 200
    east = Caller(kind=CallerKind.STAFF, subject="e", roles=frozenset({"cx_agent"}), region="East")
    assert (await client_as(east).get(f"/tickets/{ticket['id']}")).status_code == 200


async def _to_the_servicing_dealer(admin) -> tuple[str, str]:
    """A new category whose cases a rule routes to a new queue and the servicing dealer."""
    category, queue = unique("roadside"), unique("roadside")
    assert (await admin.post("/queues", json={"key": queue, "name": "Roadside"})).status_code == 201
    rule = {
        "name": "to the servicing dealer",
        "position": 1,
        "queue": queue,
        "dealer_strategy": "servicing_dealer",
        "conditions": {"categories": [category]},
    }
    assert (await admin.post("/routing-rules", json=rule)).status_code == 201
    return category, queue


async def test_a_case_opened_before_its_vehicle_was_known_goes_to_its_dealer_once_it_is(
    admin, client_as, publisher, tickets_app
):
    """The owner calls from the app before the DMS import of their car has reached tickets."""
    category, queue = await _to_the_servicing_dealer(admin)
    dealer, owner, vehicle_id = new_dealer(), new_owner(), uuid.uuid4()
    registered = await publisher(DealerRegistered(
        dealer_id=dealer.dealer_id, code=unique("D")[:30], name="Hangzhou", city=unique("city"),
        region="East",
    ))  # fmt: skip
    await eventually(lambda: handled(tickets_app, "dealer_registered", registered))

    ticket = await client_as(owner).open(category=category, vehicle_id=str(vehicle_id))
    opened = (await admin.get(f"/tickets/{ticket['id']}")).json()
    assert opened["queue"] == queue and opened["dealer_id"] is None
    assert (await client_as(dealer).get(f"/tickets/{ticket['id']}")).status_code == 404

    learned = await publisher(VehicleRegistered(
        vehicle_id=vehicle_id, vin="LRW3E7EK0NC200001", model="ET5", owner_id=owner.owner_id,
        servicing_dealer_id=dealer.dealer_id,
    ))  # fmt: skip
    await eventually(lambda: handled(tickets_app, "vehicle_registered", learned))

    routed = (await admin.get(f"/tickets/{ticket['id']}")).json()
    assert routed["queue"] == queue and routed["dealer_id"] == str(dealer.dealer_id)
    assert (await client_as(dealer).get(f"/tickets/{ticket['id']}")).status_code == 200
    assert (await client_as(new_dealer()).get(f"/tickets/{ticket['id']}")).status_code == 404
    timeline = (await admin.get(f"/tickets/{ticket['id']}/timeline")).json()
    (late,) = [e for e in timeline if e["action"] == "routed" and "known after" in e["detail"]]
    assert late["actor"] == "tickets"
    reassigned = [e for e in await events_for(tickets_app, ticket["id"])
                  if e["type"] == "cem.tickets.ticket.reassigned.v1"]  # fmt: skip
    assert reassigned[0]["data"]["dealer_id"] == str(dealer.dealer_id)


async def test_a_case_moved_by_people_is_not_routed_again_when_its_owner_becomes_known(
    admin, agent, client_as, publisher, tickets_app
):
    category, _ = await _to_the_servicing_dealer(admin)
    owner, dealer = new_owner(), new_dealer()
    ticket = await client_as(owner).open(category=category)
    moved = await agent.post(f"/tickets/{ticket['id']}/assignment", json={"queue": "first_line"})
    assert moved.status_code == 200, moved.text

    learned = await publisher(OwnerRegistered(owner_id=owner.owner_id, city=unique("city"),
                                              dealer_id=dealer.dealer_id))  # fmt: skip
    await eventually(lambda: handled(tickets_app, "owner_registered", learned))
    assert (await admin.get(f"/tickets/{ticket['id']}")).json()["dealer_id"] is None


async def test_without_a_matching_rule_a_case_goes_to_first_line(agent):
    ticket = await agent.open(category=unique("nothing_matches"))
    assert ticket["queue"] == "first_line" and ticket["dealer_id"] is None


async def test_a_disabled_rule_is_skipped_and_rules_can_be_changed(admin, agent):
    category, queue = unique("cat"), unique("queue")
    await admin.post("/queues", json={"key": queue, "name": "Q"})
    rule = {"name": "r", "position": 5, "queue": queue, "conditions": {"categories": [category]}}
    created = (await admin.post("/routing-rules", json=rule | {"enabled": False})).json()
    assert (await agent.open(category=category))["queue"] == "first_line"

    updated = await admin.put(f"/routing-rules/{created['id']}", json=rule)
    assert updated.status_code == 200 and updated.json()["enabled"] is True
    assert (await agent.open(category=category))["queue"] == queue

    assert (await admin.delete(f"/routing-rules/{created['id']}")).status_code == 204
    assert (await agent.open(category=category))["queue"] == "first_line"


async def test_routing_rules_are_validated(admin):
    bad = [
        ({"name": "r", "position": 1, "queue": unique("missing")}, "body.queue"),
        ({"name": "r", "position": 1, "queue": "first_line", "dealer_strategy": "fixed"}, "body"),
        ({"name": "r", "position": 1}, "body"),
        ({"name": "r", "position": 1, "watchers": ["x"], "conditions": {"kinds": ["spam"]}},
         "body.conditions.kinds.0"),
    ]  # fmt: skip
    for rule, field in bad:
        response = await admin.post("/routing-rules", json=rule)
        assert response.status_code == 422, rule
        assert field in [error["field"] for error in response.json()["errors"]], response.json()


async def test_sla_policies_are_validated_and_unique_per_kind_and_priority(admin):
    policy = {"name": "Low inquiries", "kind": "inquiry", "priority": "low",
              "first_response_minutes": 600, "resolution_minutes": 6000}  # fmt: skip
    created = await admin.post("/sla-policies", json=policy)
    assert created.status_code == 201, created.text
    duplicate = await admin.post("/sla-policies", json=policy | {"name": "again"})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "sla_policy_exists"
    backwards = await admin.post(
        "/sla-policies", json=policy | {"priority": "normal", "resolution_minutes": 60}
    )
    assert backwards.status_code == 422
    assert (await admin.delete(f"/sla-policies/{created.json()['id']}")).status_code == 204


async def test_business_hours_are_validated(client_as):
    owner = new_owner()  # noqa: F841 - a dealer manages its own hours
    from tests.tickets.conftest import new_dealer

    dealer = new_dealer()
    client = client_as(dealer)
    bad = [
        ({"time_zone": "Mars/Olympus", "weekly_hours": {"mon": [["09:00", "18:00"]]}},
         "body.time_zone"),
        ({"time_zone": "Asia/Shanghai", "weekly_hours": {"mon": [["18:00", "09:00"]]}},
         "body.weekly_hours"),
    ]  # fmt: skip
    for body, field in bad:
        response = await client.put(f"/dealers/{dealer.dealer_id}/settings", json=body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


async def test_a_sold_car_is_the_new_owners_to_open_cases_about(client_as, publisher, tickets_app):
    seller, buyer = new_owner(), new_owner()
    vehicle_id = uuid.uuid4()
    registered = await publisher(
        VehicleRegistered(
            vehicle_id=vehicle_id, vin="LRW3E7EK4NC000002", model="ES6", owner_id=seller.owner_id
        )
    )
    await eventually(lambda: handled(tickets_app, "vehicle_registered", registered))
    sold = await publisher(VehicleOwnershipChanged(
        vehicle_id=vehicle_id, vin="LRW3E7EK4NC000002", owner_id=buyer.owner_id,
        previous_owner_id=seller.owner_id, effective_from=date(2026, 3, 1),
    ))  # fmt: skip
    await eventually(lambda: handled(tickets_app, "vehicle_ownership_changed", sold))

    await client_as(buyer).open(vehicle_id=str(vehicle_id))
    refused = await client_as(seller).post(
        "/tickets",
        json={"kind": "inquiry", "subject": "x", "description": "y",
              "vehicle_id": str(vehicle_id)},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.vehicle_id"
