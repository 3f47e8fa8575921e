"""A dealer group's key sees the vehicles its dealers sold or service, and no other; it
sends no signals (a dealer's own key does)."""

from datetime import UTC, datetime

from tests.helpers import dealer_group_caller
from tests.telematics.conftest import drive, new_dealer


async def test_a_group_sees_its_dealers_vehicles_and_no_other(register, client_as):
    first, second, outsider = new_dealer(), new_dealer(), new_dealer()
    mine = [(await register(dealer=dealer))[0] for dealer in (first, second)]
    (theirs,) = await register(dealer=outsider)
    group = client_as(dealer_group_caller(first, second))

    listed = {item["vin"] for item in (await group.get("/vehicles")).json()["items"]}
    assert listed == {vehicle.vin for vehicle in mine}
    for vehicle in mine:
        assert (await group.get(f"/vehicles/{vehicle.vin}")).status_code == 200
    for route in ("", "/trips", "/faults"):
        response = await group.get(f"/vehicles/{theirs.vin}{route}")
        assert response.status_code == 404, route


async def test_a_group_sends_no_signals(register, client_as):
    dealer = new_dealer()
    (vehicle,) = await register(dealer=dealer)
    samples = drive(vehicle.vin, datetime.now(UTC), seconds=2)
    response = await client_as(dealer_group_caller(dealer)).post("/signals", json=samples)
    assert response.status_code == 403
