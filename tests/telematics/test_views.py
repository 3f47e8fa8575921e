"""Owner and dealer views, each with its isolation: another owner's or dealer's vehicle is a
404, a previous owner's trips are not the new owner's; ownership changes and erasure."""

import uuid
from datetime import date, timedelta

import pytest

from shared.contracts.profile import OwnerErasureRequested, VehicleOwnershipChanged
from tests.helpers import eventually, staff_exports_recorded
from tests.telematics.conftest import (
    AGENT,
    GATEWAY,
    START,
    drive,
    handled,
    new_dealer,
    new_owner,
    parked,
    rows,
)


@pytest.fixture
async def driven(register, gateway, derive, clock):
    """A vehicle of an owner (location consented) and a dealer, with a trip, a charging
    session, an active fault and a service due date."""
    owner, dealer = new_owner(), new_dealer()
    (vehicle,) = await register(owner=owner, dealer=dealer, location_consent=True)
    start = clock.now - timedelta(hours=5)
    location = {
        "Vehicle.CurrentLocation.Latitude": 31.2,
        "Vehicle.CurrentLocation.Longitude": 121.4,
        "Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Category": "school",
    }
    await gateway.send(drive(vehicle.vin, start, seconds=300, extra=location))
    after = start + timedelta(seconds=300)
    await gateway.send(parked(vehicle.vin, after, seconds=400, odometer_m=10_003_000.0))
    battery = "Vehicle.Powertrain.TractionBattery."
    charging = [
        {"vin": vehicle.vin, "ts": (after + timedelta(minutes=10 + m)).isoformat(),
         "signals": {battery + "Charging.IsCharging": m < 30, battery + "CurrentPower": 7000.0,
                     battery + "StateOfCharge.Current": 50 + m,
                     "Vehicle.Diagnostics.DTCList": ["C0035"],
                     "Vehicle.CurrentLocation.Latitude": 31.3}}
        for m in range(31)
    ]  # fmt: skip
    await gateway.send(charging)
    clock.advance(days=1)
    await derive()
    return vehicle, owner, dealer


async def test_an_owner_sees_their_vehicle_trips_charging_faults_and_service_due(driven, client_as):
    vehicle, owner, _ = driven
    http = client_as(owner)
    listed = (await http.get("/vehicles")).json()
    assert [item["vin"] for item in listed["items"]] == [vehicle.vin] and listed["total"] == 1
    state = (await http.get(f"/vehicles/{vehicle.vin}")).json()
    assert state["soc"] == 80 and state["latitude"] == 31.3
    trips = (await http.get(f"/vehicles/{vehicle.vin}/trips")).json()
    assert trips["total"] == 1 and trips["items"][0]["destination"] == "school"
    sessions = (await http.get(f"/vehicles/{vehicle.vin}/charging-sessions")).json()
    assert sessions["total"] == 1
    session = sessions["items"][0]
    assert session["cost"] == pytest.approx(session["energy_kwh"] * 1.2, abs=0.01)  # no fee
    faults = (await http.get(f"/vehicles/{vehicle.vin}/faults")).json()
    assert [(f["code"], f["component"]) for f in faults["items"]] == [
        ("C0035", "wheel_speed_sensor")
    ]
    due = await http.get(f"/vehicles/{vehicle.vin}/service-due")
    assert due.status_code == 200 and due.json()["reason"] in ("time", "mileage")


async def test_a_dealer_sees_active_faults_of_its_vehicles_for_upcoming_visits(driven, client_as):
    vehicle, _, dealer = driven
    faults = (await client_as(dealer).get("/faults")).json()
    assert [(f["vin"], f["code"]) for f in faults["items"]] == [(vehicle.vin, "C0035")]
    assert faults["items"][0]["service_due_date"] is not None
    assert (await client_as(dealer).get(f"/vehicles/{vehicle.vin}/trips")).json()["total"] == 1


ROUTES = ["", "/trips", "/charging-sessions", "/faults", "/service-due"]


@pytest.mark.parametrize("route", ROUTES)
async def test_another_owner_or_dealer_gets_404(driven, client_as, route):
    vehicle, _, _ = driven
    for stranger in (new_owner(), new_dealer()):
        response = await client_as(stranger).get(f"/vehicles/{vehicle.vin}{route}")
        assert response.status_code == 404, (stranger.kind, response.text)
        assert response.json()["code"] == "vehicle_not_found"


async def test_lists_hold_only_the_callers_vehicles(driven, client_as):
    for stranger in (new_owner(), new_dealer()):
        assert (await client_as(stranger).get("/vehicles")).json()["total"] == 0
        assert (await client_as(stranger).get("/faults")).json()["total"] == 0


async def test_the_vehicle_gateway_reads_nothing_and_agents_read_all(driven, client_as):
    vehicle, _, _ = driven
    assert (await client_as(GATEWAY).get(f"/vehicles/{vehicle.vin}")).status_code == 403
    assert (await client_as(AGENT).get(f"/vehicles/{vehicle.vin}")).status_code == 200


async def test_a_new_owner_does_not_see_the_previous_owners_trips(
    driven, client_as, publisher, telematics_app
):
    vehicle, previous, _ = driven
    buyer = new_owner()
    envelope = await publisher(
        VehicleOwnershipChanged(
            vehicle_id=vehicle.vehicle_id, vin=vehicle.vin, owner_id=buyer.owner_id,
            previous_owner_id=previous.owner_id, effective_from=date(2026, 3, 4),
        )
    )  # fmt: skip
    await eventually(lambda: handled(telematics_app, "ownership_changed", envelope))
    assert (await client_as(previous).get(f"/vehicles/{vehicle.vin}")).status_code == 404
    mine = await client_as(buyer).get(f"/vehicles/{vehicle.vin}/trips")
    assert mine.status_code == 200 and mine.json()["total"] == 0


async def test_erasure_removes_locations_and_links_and_is_confirmed(
    driven, client_as, publisher, telematics_app
):
    vehicle, owner, _ = driven
    request_id = uuid.uuid4()
    envelope = await publisher(
        OwnerErasureRequested(request_id=request_id, owner_id=owner.owner_id, requested_at=START)
    )
    await eventually(lambda: handled(telematics_app, "erasure_requested", envelope))
    located = await rows(
        telematics_app,
        "SELECT count(*) AS n FROM signals WHERE vehicle_id = :v "
        "AND (latitude IS NOT NULL OR destination IS NOT NULL)",
        v=vehicle.vehicle_id,
    )
    assert located[0].n == 0
    linked = await rows(
        telematics_app,
        "SELECT (SELECT count(*) FROM trips WHERE owner_id = :o) "
        "+ (SELECT count(*) FROM charging_sessions WHERE owner_id = :o) "
        "+ (SELECT count(*) FROM vehicles WHERE owner_id = :o) AS n",
        o=owner.owner_id,
    )
    assert linked[0].n == 0
    (confirmation,) = await rows(
        telematics_app,
        "SELECT envelope->'data' AS data FROM outbox "
        "WHERE subject = 'cem.telematics.erasure.completed.v1' AND envelope->>'subject' = :r",
        r=str(request_id),
    )
    assert confirmation.data["service"] == "telematics"
    assert confirmation.data["records_erased"] > 0
    assert (await client_as(owner).get("/vehicles")).json()["total"] == 0


async def test_the_owners_export_holds_their_vehicles_drives_charging_and_faults(
    driven, client_as, telematics_app
):
    vehicle, owner, dealer = driven
    path = f"/privacy/owners/{owner.owner_id}/export"
    export = (await client_as(owner).get(path)).json()
    assert [v["vin"] for v in export["vehicles"]] == [vehicle.vin]
    assert len(export["trips"]) == 1 and len(export["charging_sessions"]) == 1
    assert [(f["vin"], f["code"]) for f in export["faults"]] == [(vehicle.vin, "C0035")]
    assert (await client_as(AGENT).get(path)).json() == export
    assert (await client_as(new_owner()).get(path)).status_code == 404
    assert (await client_as(dealer).get(path)).status_code == 403
    # Only the agent's export is recorded for the owner's audit log: the owner's own is no staff
    # read, refused exports are none.
    assert await staff_exports_recorded(telematics_app, "telematics", owner.owner_id) == [
        ("agent@test", ["cx_agent"])
    ]
