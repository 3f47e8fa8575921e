"""An open service booking shows its vehicle's active fault codes (from telematics' events), so
the dealer can prepare parts; a cleared code no longer shows."""

import uuid
from datetime import UTC, datetime

from shared.contracts.profile import VehicleRegistered
from shared.contracts.telematics import DtcCleared, DtcRaised
from tests.helpers import eventually
from tests.tickets.conftest import handled, new_dealer, new_owner

VIN = "LRW3E7EK0NC100042"


async def booking(client_as, owner, dealer, vehicle_id) -> dict:
    """Booked by the owner in the app, read by the dealer who prepares the visit."""
    opened = await client_as(owner).open(
        kind="service_booking", subject="Fan noise", vehicle_id=str(vehicle_id),
        requested_slot="2026-03-10T02:00:00Z", dealer_id=str(dealer.dealer_id),
    )  # fmt: skip
    seen = await client_as(dealer).get(f"/tickets/{opened['id']}")
    assert seen.status_code == 200, seen.text
    return seen.json()


async def test_a_booking_carries_the_active_fault_codes_and_not_cleared_ones(
    tickets_app, publisher, client_as
):
    owner, dealer = new_owner(), new_dealer()
    vehicle_id = uuid.uuid4()
    at = datetime(2026, 3, 1, 8, tzinfo=UTC)
    events = [
        await publisher(VehicleRegistered(vehicle_id=vehicle_id, vin=VIN, model="ES8",
                                          owner_id=owner.owner_id,
                                          servicing_dealer_id=dealer.dealer_id)),
        await publisher(DtcRaised(vehicle_id=vehicle_id, vin=VIN, code="P0480",
                                  component="cooling_fan_controller", mileage_km=20512.0,
                                  raised_at=at)),
        await publisher(DtcRaised(vehicle_id=vehicle_id, vin=VIN, code="B1234",
                                  component="smart_key", raised_at=at)),
    ]  # fmt: skip
    await eventually(lambda: handled(tickets_app, "vehicle_registered", events[0]))
    await eventually(lambda: handled(tickets_app, "dtc_raised", *events[1:]))

    first = await booking(client_as, owner, dealer, vehicle_id)
    faults = {f["code"]: f for f in first["vehicle_faults"]}
    assert set(faults) == {"P0480", "B1234"}
    assert faults["P0480"]["component"] == "cooling_fan_controller"
    assert faults["P0480"]["mileage_km"] == 20512.0

    cleared = await publisher(DtcCleared(vehicle_id=vehicle_id, vin=VIN, code="B1234",
                                         cleared_at=at.replace(hour=9)))  # fmt: skip
    await eventually(lambda: handled(tickets_app, "dtc_cleared", cleared))
    second = await booking(client_as, owner, dealer, vehicle_id)
    assert [f["code"] for f in second["vehicle_faults"]] == ["P0480"]
    refreshed = await client_as(dealer).get(f"/tickets/{first['id']}")
    assert [f["code"] for f in refreshed.json()["vehicle_faults"]] == ["P0480"]


async def test_other_kinds_of_case_carry_no_fault_codes(tickets_app, agent):
    case = await agent.open(kind="complaint", subject="Noisy fan")
    assert case["vehicle_faults"] == []
