"""What a dealer's request sets off but must count at every dealer, though row-level security
lets the request itself see only its own dealer's rows (shared.database.every_dealer)."""

from tests.profile.conftest import ADMIN, dms_batch, make_vin


async def test_a_visit_at_another_dealer_moves_the_owner_on_from_the_first_dealers_delivery(
    client_as, dealer_a, dealer_b
):
    vin = make_vin()
    batch = dms_batch(vin=vin)
    batch["orders"][0]["status"] = "delivered"
    batch["service_visits"] = []
    batch["owners"][0].update(email=f"{vin.lower()}@example.com", phone=None)  # no one else's
    imported = await client_as(dealer_a).post("/imports", json=batch)
    assert imported.status_code == 200, imported.text
    (owner,) = (await client_as(dealer_a).get("/owners")).json()["items"]
    stage = f"/owners/{owner['id']}/360"
    assert (await client_as(ADMIN).get(stage)).json()["lifecycle"]["stage"] == "delivery"

    visit = {"vin": vin, "visit_type": "maintenance", "visit_date": "2026-11-20",
             "mileage_km": 9000}  # fmt: skip
    recorded = await client_as(dealer_b).post("/service-visits", json=visit)
    assert recorded.status_code == 201, recorded.text

    # The stage counts dealer A's delivery, which dealer B's request cannot see itself ...
    view = (await client_as(ADMIN).get(stage)).json()
    assert view["lifecycle"]["stage"] == "usage_and_service"
    # ... and dealer B is shown its own visit of the owner, not dealer A's order.
    seen_by_b = (await client_as(dealer_b).get(stage)).json()
    assert seen_by_b["orders"] == [] and len(seen_by_b["service_history"]) == 1
