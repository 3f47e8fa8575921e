"""Survey integrity: the suppression audit, answers from the dealer's own or a shared
network, top-box jumps, and the registry of dealers' networks."""

import uuid

from shared.contracts.profile import OrderStatusChanged, ServiceVisitCompleted
from tests.feedback.conftest import ADMIN, MARKETING, answer, handled, new_dealer, new_owner
from tests.helpers import eventually


def delivery(owner_id, dealer_id, at) -> OrderStatusChanged:
    return OrderStatusChanged(
        order_id=uuid.uuid4(), owner_id=owner_id, dealer_id=dealer_id, model="ET7",
        status="delivered", changed_at=at,
    )  # fmt: skip


def day_of(clock) -> dict:
    day = clock.now.date().isoformat()
    return {"start": day, "end": day}


async def test_the_audit_lists_touchpoints_that_never_got_an_invitation(
    feedback_app, publisher, admin, client_as, clock
):
    dealer, owner = new_dealer(), new_owner()
    first = delivery(owner.owner_id, dealer.dealer_id, clock.now)
    second = delivery(owner.owner_id, dealer.dealer_id, clock.now)  # throttled
    anonymous_visit = ServiceVisitCompleted(
        visit_id=uuid.uuid4(), dealer_id=dealer.dealer_id, owner_id=None,
        vehicle_id=uuid.uuid4(), vin="LRW3E7EK0NC100009", visit_type="repair",
        visit_date=clock.now.date(), mileage_km=20000,
    )  # fmt: skip
    published = [await publisher(e) for e in (first, second)]
    await eventually(lambda: handled(feedback_app, "order_delivered", *published))
    visit = await publisher(anonymous_visit)
    await eventually(lambda: handled(feedback_app, "service_visit_completed", visit))

    window = day_of(clock) | {"dealer_id": str(dealer.dealer_id)}
    report = (await admin.get("/analytics/suppression", params=window)).json()
    (row,) = report["dealers"]
    assert row["dealer_id"] == str(dealer.dealer_id)
    assert (row["touchpoints"], row["uninvited"]) == (3, 2)
    assert row["reasons"] == {"throttled": 1, "no_owner": 1}

    listed = (await admin.get("/analytics/suppression/touchpoints", params=window)).json()
    assert listed["total"] == 2
    assert {item["reason"] for item in listed["items"]} == {"throttled", "no_owner"}
    assert {item["source"] for item in listed["items"]} == {
        f"order:{second.order_id}",
        f"service_visit:{anonymous_visit.visit_id}",
    }
    only_throttled = await admin.get(
        "/analytics/suppression/touchpoints", params=window | {"reason": "throttled"}
    )
    assert only_throttled.json()["total"] == 1


async def test_integrity_reports_are_for_staff_only(client_as, clock):
    dealer = new_dealer()
    for path in ("/analytics/suppression", "/analytics/suppression/touchpoints",
                 "/analytics/integrity"):  # fmt: skip
        assert (await client_as(dealer).get(path)).status_code == 403
        assert (await client_as(new_owner()).get(path)).status_code == 403


async def test_answers_from_the_dealers_own_network_are_flagged(
    feedback_app, admin, client_as, clock
):
    dealer = new_dealer()
    registered = await admin.post(
        f"/dealers/{dealer.dealer_id}/networks",
        json={"cidr": "198.51.100.0/24", "label": "showroom"},
    )
    assert registered.status_code == 201, registered.text
    addresses = ["198.51.100.23", "198.51.100.24", "198.51.100.99", "203.0.113.5"]
    for address in addresses:
        headers = {"x-forwarded-for": address, "x-device-id": f"device-{uuid.uuid4()}"}
        await answer(feedback_app, admin, 10, headers=headers, dealer_id=str(dealer.dealer_id))

    window = day_of(clock) | {"dealer_id": str(dealer.dealer_id)}
    report = (await admin.get("/analytics/integrity", params=window)).json()
    (row,) = report["dealers"]
    assert row["answers"] == 4 and row["from_dealer_network"] == 3
    assert "dealer_network" in row["flags"] and "shared_network" not in row["flags"]
    scores = (await admin.get("/analytics/scores", params=window)).json()
    assert scores["total"]["from_dealer_network"] == 3


async def test_one_network_answering_for_many_owners_is_flagged(feedback_app, admin, clock):
    dealer = new_dealer()
    for _ in range(3):  # three owners, one address the dealer never registered
        headers = {"x-forwarded-for": "192.0.2.77", "x-device-id": f"device-{uuid.uuid4()}"}
        await answer(feedback_app, admin, 9, headers=headers, dealer_id=str(dealer.dealer_id))
    await answer(feedback_app, admin, 9, headers={"x-forwarded-for": "192.0.2.78"},
                 dealer_id=str(dealer.dealer_id))  # fmt: skip
    window = day_of(clock) | {"dealer_id": str(dealer.dealer_id)}
    (row,) = (await admin.get("/analytics/integrity", params=window)).json()["dealers"]
    assert row["from_shared_network"] == 3 and row["flags"] == ["shared_network"]


async def test_a_sudden_rush_to_the_top_box_is_flagged(feedback_app, admin, clock):
    dealer, steady = new_dealer(), new_dealer()
    for score in [8] * 18 + [10] * 2:  # the day before: 10 % answer 10
        await answer(feedback_app, admin, score, dealer_id=str(dealer.dealer_id))
        await answer(feedback_app, admin, score, dealer_id=str(steady.dealer_id))
    clock.advance(days=1)
    for score in [10] * 19 + [9]:  # today: 95 % answer 10
        await answer(feedback_app, admin, score, dealer_id=str(dealer.dealer_id))
    for score in [8] * 17 + [10] * 3:
        await answer(feedback_app, admin, score, dealer_id=str(steady.dealer_id))

    rows = {
        row["dealer_id"]: row
        for row in (await admin.get("/analytics/integrity", params=day_of(clock))).json()["dealers"]
    }
    jumped, calm = rows[str(dealer.dealer_id)], rows[str(steady.dealer_id)]
    assert (jumped["top_box"], jumped["baseline_top_box"]) == (19, 2)
    assert jumped["top_box_jump_z"] > 5 and jumped["flags"] == ["top_box_jump"]
    assert calm["flags"] == [] and calm["baseline_answers"] == 20


async def test_dealer_networks_are_validated_and_managed_by_staff(client_as):
    dealer = new_dealer()
    path = f"/dealers/{dealer.dealer_id}/networks"
    staff = client_as(ADMIN)
    bad = await staff.post(path, json={"cidr": "not-a-network"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.cidr"
    created = await staff.post(path, json={"cidr": "10.20.0.0/16"})
    assert created.status_code == 201 and created.json()["cidr"] == "10.20.0.0/16"
    assert (await staff.post(path, json={"cidr": "10.20.0.0/16"})).status_code == 409
    assert (await client_as(dealer).post(path, json={"cidr": "10.30.0.0/16"})).status_code == 403
    assert (await client_as(dealer).get(path)).status_code == 403
    assert [n["cidr"] for n in (await client_as(MARKETING).get(path)).json()] == ["10.20.0.0/16"]

    network_id = created.json()["id"]
    elsewhere = f"/dealers/{new_dealer().dealer_id}/networks/{network_id}"
    assert (await staff.delete(elsewhere)).status_code == 404
    assert (await staff.delete(f"{path}/{network_id}")).status_code == 204
    assert (await staff.get(path)).json() == []


async def test_a_dealer_sees_its_invitations_but_never_how_to_reach_the_owner(
    feedback_app, admin, client_as
):
    dealer = new_dealer()
    await answer(feedback_app, admin, 9, dealer_id=str(dealer.dealer_id))
    invitations = (await client_as(dealer).get("/invitations")).json()["items"]
    responses = (await client_as(dealer).get("/responses")).json()["items"]
    assert len(invitations) == len(responses) == 1
    fields = set(invitations[0]) | set(responses[0])
    assert not fields & {"link", "token", "token_hash", "phone", "email", "device_hash",
                         "network_hash"}  # fmt: skip


async def test_a_popular_browser_or_the_gateways_own_address_is_not_a_shared_fingerprint(
    feedback_app, admin, clock
):
    dealer = new_dealer()
    for number in range(3):  # one common phone browser, each owner on a network of their own
        headers = {"x-device-id": "", "user-agent": "Mozilla/5.0 (iPhone)",
                   "x-forwarded-for": f"198.18.0.{number + 1}"}  # fmt: skip
        await answer(feedback_app, admin, 9, headers=headers, dealer_id=str(dealer.dealer_id))
    for _ in range(3):  # no client address forwarded: the peer is the gateway, not the owner
        headers = {"x-device-id": "", "x-forwarded-for": ""}
        await answer(feedback_app, admin, 9, headers=headers, dealer_id=str(dealer.dealer_id))
    window = day_of(clock) | {"dealer_id": str(dealer.dealer_id)}
    (row,) = (await admin.get("/analytics/integrity", params=window)).json()["dealers"]
    assert row["answers"] == 6 and row["from_shared_network"] == 0 and row["flags"] == []
