"""Scenario 5, the owner's journey in the app, with the owner's own token only: the order
tracked from order to delivery, a service visit booked (its dealer can see the car's recent
fault codes to prepare parts), roadside assistance, charging history with its cost, service
history, the message inbox and loyalty points."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.e2e.conftest import ADMIN
from tests.e2e.support import (
    answer,
    dealer_in,
    getter,
    inbox,
    install_journey,
    items_where,
    ok,
    owner_with_car,
    send_signals,
    survey_with_trigger,
    trip,
    unique,
    wait_for,
)

ORDER_STEPS = ("in_production", "in_transit", "ready_for_delivery", "delivered")
FAN_FAULT = "P0480"


def charging(vin: str, start: datetime, odometer_km: float) -> list[dict]:
    """An hour on a 7 kW home charger, a sample every ten minutes, then unplugged."""
    samples = []
    for step in range(7):
        plugged = step < 6
        signals = {
            "Vehicle.Speed": 0.0,
            "Vehicle.TraveledDistance": odometer_km * 1000,
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": 40.0 + 10 * step,
            "Vehicle.Powertrain.TractionBattery.Charging.IsCharging": plugged,
            "Vehicle.Powertrain.TractionBattery.CurrentPower": 7000.0 if plugged else 0.0,
            "Vehicle.Powertrain.Transmission.SelectedGear": 126,
        }
        at = start + timedelta(minutes=10 * step)
        samples.append({"vin": vin, "ts": at.isoformat(), "signals": signals})
    return samples


async def book_service(gateway, owner, dealer) -> dict:
    slot = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    booking = {
        "kind": "service_booking", "subject": "Cooling fan warning light",
        "description": "The fan warning came on twice this week.",
        "vehicle_id": owner.vehicle_id, "dealer_id": dealer.id,
        "requested_slot": slot.isoformat(),
    }  # fmt: skip
    return ok(await gateway.post("/v1/tickets/tickets", json=booking, headers=owner.headers), 201)


@pytest.fixture
async def onboarding(gateway):
    """The shipped welcome journey for newly delivered owners, retired after the test."""
    key = await install_journey(gateway, "post_delivery_onboarding")
    yield key
    path = f"/v1/journeys/definitions/{key}/versions/1/transitions"
    ok(await gateway.post(path, json={"to": "archived"}, headers=ADMIN))


async def test_the_owner_follows_everything_in_the_app(gateway, onboarding):
    await survey_with_trigger(
        gateway, key="service_csat", kind="csat", touchpoint="service_visit_completed"
    )
    dealer = await dealer_in(gateway, unique("City"))
    owner = await owner_with_car(gateway, dealer, model="ES8")
    neighbour = await owner_with_car(gateway, dealer, model="ES8")

    order = ok(await gateway.post("/v1/profile/orders", headers=dealer.headers,
                                  json={"owner_id": owner.id, "model": "ES8"}), 201)  # fmt: skip
    for status in ORDER_STEPS:
        ok(await gateway.post(f"/v1/profile/orders/{order['id']}/status",
                              json={"status": status}, headers=dealer.headers))  # fmt: skip
    tracked = ok(await gateway.get(f"/v1/profile/orders/{order['id']}", headers=owner.headers))
    assert [step["status"] for step in tracked["timeline"]] == ["ordered", *ORDER_STEPS]
    # The delivery may also bring a survey invitation (when a delivery survey is set up).
    messages = await wait_for(
        lambda: inbox(gateway, owner),
        lambda got: any(m["template_key"] == "onboarding_welcome" for m in got or ()),
    )
    assert {m["template_key"] for m in messages} <= {"onboarding_welcome", "survey_invitation"}

    start = datetime.now(UTC) - timedelta(hours=6)
    drive = trip(owner.vin, start, 500.0, 15.0, dtcs=[FAN_FAULT])
    await send_signals(gateway, drive + charging(owner.vin, start + timedelta(hours=2), 515.0))
    sessions = await wait_for(
        getter(gateway, f"/v1/telematics/vehicles/{owner.vin}/charging-sessions", owner.headers),
        lambda page: page and page["items"],
    )
    charge = sessions["items"][0]
    assert charge["energy_kwh"] > 5 and charge["cost"] > 0 and charge["currency"]
    faults = await wait_for(
        getter(gateway, f"/v1/telematics/vehicles/{owner.vin}/faults", owner.headers),
        lambda page: page and page["items"],
    )
    assert faults["items"][0]["code"] == FAN_FAULT

    booking = await book_service(gateway, owner, dealer)
    seen = ok(await gateway.get(f"/v1/tickets/tickets/{booking['id']}", headers=dealer.headers))
    assert seen["kind"] == "service_booking" and seen["requested_slot"] is not None
    to_prepare = ok(await gateway.get("/v1/telematics/faults", params={"vin": owner.vin},
                                      headers=dealer.headers))  # fmt: skip
    assert [fault["code"] for fault in to_prepare["items"]] == [FAN_FAULT]
    rescue = {"kind": "roadside_assistance", "subject": "Flat tyre on the ring road",
              "description": "Rear left tyre, car parked on the hard shoulder.",
              "vehicle_id": owner.vehicle_id}  # fmt: skip
    ok(await gateway.post("/v1/tickets/tickets", json=rescue, headers=owner.headers), 201)
    cases = ok(await gateway.get("/v1/tickets/tickets", headers=owner.headers))["items"]
    assert sorted(case["kind"] for case in cases) == ["roadside_assistance", "service_booking"]
    assert all(case["status_label"]["en"] == "Submitted" for case in cases)

    visit = {"vin": owner.vin, "visit_type": "repair", "visit_date": date.today().isoformat(),
             "mileage_km": 515, "cost": "420.00"}  # fmt: skip
    ok(await gateway.post("/v1/profile/service-visits", json=visit, headers=dealer.headers), 201)
    history = ok(await gateway.get("/v1/profile/service-visits", headers=owner.headers))
    assert [(v["visit_type"], v["mileage_km"]) for v in history["items"]] == [("repair", 515)]
    assert (
        ok(await gateway.get("/v1/profile/service-visits", headers=neighbour.headers))["items"]
        == []
    )

    invitation = (
        await items_where(gateway, "/v1/feedback/invitations", owner.headers,
                          lambda i: i["touchpoint"] == "service_visit_completed")
    )[0]  # fmt: skip
    await answer(gateway, invitation, owner, 5, "Fixed the same day.")
    points = await wait_for(
        getter(gateway, f"/v1/profile/owners/{owner.id}/points", owner.headers),
        lambda body: body and body["balance"] > 0,
    )
    assert points["entries"][0]["points"] == points["balance"]
    hidden = await gateway.get(f"/v1/profile/owners/{owner.id}/points", headers=neighbour.headers)
    assert hidden.status_code == 404


async def test_a_service_booking_carries_the_recent_fault_codes(gateway):
    dealer = await dealer_in(gateway, unique("City"))
    owner = await owner_with_car(gateway, dealer)
    await send_signals(gateway, trip(owner.vin, datetime.now(UTC) - timedelta(hours=2), 100.0,
                                     10.0, dtcs=[FAN_FAULT]))  # fmt: skip
    await wait_for(
        getter(gateway, f"/v1/telematics/vehicles/{owner.vin}/faults", owner.headers),
        lambda page: page and page["items"],
    )
    booking = await book_service(gateway, owner, dealer)
    # Tickets learns of the fault from telematics' event: the dealer's view shows it shortly.
    seen = await wait_for(
        getter(gateway, f"/v1/tickets/tickets/{booking['id']}", dealer.headers),
        lambda body: body and body["vehicle_faults"],
    )
    assert [fault["code"] for fault in seen["vehicle_faults"]] == [FAN_FAULT]
