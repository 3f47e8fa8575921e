"""Scenario 4, touchpoint feedback: after a delivery and after a service visit the owner is
asked for NPS or CSAT; a detractor's answer opens a case at the dealer; NPS and CSAT are
reported by dealer, touchpoint and model."""

from datetime import UTC, date, datetime

from tests.e2e.conftest import ADMIN
from tests.e2e.support import (
    answer,
    dealer_in,
    items_where,
    ok,
    owner_with_car,
    survey_with_trigger,
    unique,
    wait_for,
)

UNHAPPY = "The workshop kept my car two extra days and nobody called me back."


async def invitation_at(gateway, owner, touchpoint: str) -> dict:
    found = await items_where(
        gateway, "/v1/feedback/invitations", owner.headers,
        lambda invitation: invitation["touchpoint"] == touchpoint
        and invitation["status"] == "sent",
    )  # fmt: skip
    return found[0]


async def report(gateway, headers, **params) -> dict:
    return ok(await gateway.get("/v1/feedback/analytics/scores", params=params, headers=headers))


async def figure(gateway, headers, key: str, **params) -> dict:
    """The figure of one group once the answers are counted in it."""
    found = await wait_for(
        lambda: report(gateway, headers, **params),
        lambda body: any(g["key"] == key and g["total"]["responses"] for g in body["groups"]),
    )
    return next(g["total"] for g in found["groups"] if g["key"] == key)


async def test_touchpoint_surveys_a_detractor_case_and_the_scores(gateway):
    await survey_with_trigger(gateway, key="delivery_nps", kind="nps", touchpoint="order_delivered")
    await survey_with_trigger(
        gateway, key="service_csat", kind="csat", touchpoint="service_visit_completed"
    )
    dealer, model = await dealer_in(gateway, unique("City")), unique("ET7")
    buyer = await owner_with_car(gateway, dealer, model=model)
    visitor = await owner_with_car(gateway, dealer, model=model, language="zh")

    order = ok(await gateway.post("/v1/profile/orders", headers=dealer.headers,
                                  json={"owner_id": buyer.id, "model": model, "vin": buyer.vin}),
               201)  # fmt: skip
    delivery = {"status": "delivered", "changed_at": datetime.now(UTC).isoformat()}
    path = f"/v1/profile/orders/{order['id']}/status"
    ok(await gateway.post(path, json=delivery, headers=dealer.headers))
    visit = {"vin": visitor.vin, "visit_type": "maintenance", "mileage_km": 10_000,
             "visit_date": date.today().isoformat()}  # fmt: skip
    ok(await gateway.post("/v1/profile/service-visits", json=visit, headers=dealer.headers), 201)

    delivered = await invitation_at(gateway, buyer, "order_delivered")
    serviced = await invitation_at(gateway, visitor, "service_visit_completed")
    assert delivered["dealer_id"] == dealer.id and serviced["dealer_id"] == dealer.id
    promoter = await answer(gateway, delivered, buyer, 10, "Smooth handover, thank you!")
    detractor = await answer(gateway, serviced, visitor, 1, UNHAPPY)
    assert (promoter["band"], detractor["band"]) == ("promoter", "detractor")

    cases = await items_where(
        gateway, "/v1/tickets/tickets", dealer.headers,
        lambda case: case["source_id"] == detractor["id"],
    )  # fmt: skip
    case = cases[0]
    assert (case["kind"], case["channel"], case["owner_id"]) == ("complaint", "survey", visitor.id)
    assert case["priority"] == "high" and case["description"] == UNHAPPY
    mine = ok(await gateway.get(f"/v1/tickets/tickets/{case['id']}", headers=visitor.headers))
    assert mine["status_label"]["en"] == "Submitted"

    nps = await figure(gateway, dealer.headers, "order_delivered", kind="nps", by="touchpoint")
    assert nps["promoters"] == 1
    csat = await figure(gateway, dealer.headers, model, kind="csat", by="model")
    assert (csat["responses"], csat["score"]) == (1, 0)
    by_dealer = await figure(gateway, ADMIN, dealer.id, kind="nps", by="dealer_id", model=model)
    assert by_dealer["score"] == 100
    other = await dealer_in(gateway, unique("City"))
    theirs = await report(gateway, other.headers, kind="nps", by="dealer_id")
    assert dealer.id not in [g["key"] for g in theirs["groups"]]
