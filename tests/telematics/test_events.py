"""Consumed events have one effect however often they arrive, and problems have one shape."""

import uuid
from datetime import date

from shared.contracts.profile import ComponentBatch, ServiceVisitCompleted
from shared.messaging.envelope import Envelope
from tests.helpers import eventually
from tests.telematics.conftest import QUALITY, handled, new_dealer, new_owner, scalar

FAN = ComponentBatch(component="cooling_fan_controller", part_number="CF-1", batch_code="B-1")


async def test_a_redelivered_registration_fits_the_parts_once(register, publisher, telematics_app):
    (vehicle,) = await register(owner=new_owner(), components=[FAN])
    await publisher(vehicle)  # the same facts again, as a new event
    again = Envelope.wrap(vehicle)
    await publisher(vehicle, envelope=again)
    await eventually(lambda: handled(telematics_app, "vehicle_registered", again))
    parts = await scalar(
        telematics_app, "SELECT count(*) FROM fitted_parts WHERE vehicle_id = :v",
        v=vehicle.vehicle_id,
    )  # fmt: skip
    assert parts == 1


async def test_a_replaced_part_is_one_failure_even_if_the_visit_comes_twice(
    register, publisher, telematics_app
):
    dealer = new_dealer()
    (vehicle,) = await register(owner=new_owner(), dealer=dealer, components=[FAN])
    visit = ServiceVisitCompleted(
        visit_id=uuid.uuid4(), dealer_id=dealer.dealer_id, owner_id=vehicle.owner_id,
        vehicle_id=vehicle.vehicle_id, vin=vehicle.vin, visit_type="repair",
        visit_date=date(2026, 2, 1), mileage_km=21_000,
        parts=[ComponentBatch(component=FAN.component, part_number="CF-2", batch_code="B-2")],
    )  # fmt: skip
    first, second = Envelope.wrap(visit), Envelope.wrap(visit)  # two deliveries, two ids
    await publisher(visit, envelope=first)
    await publisher(visit, envelope=second)
    await eventually(lambda: handled(telematics_app, "service_visit_completed", first, second))
    failures = await scalar(
        telematics_app, "SELECT count(*) FROM part_failures WHERE vehicle_id = :v",
        v=vehicle.vehicle_id,
    )  # fmt: skip
    current = await scalar(
        telematics_app,
        "SELECT batch_code FROM fitted_parts WHERE vehicle_id = :v AND removed_km IS NULL",
        v=vehicle.vehicle_id,
    )
    assert (failures, current) == (1, "B-2")


async def test_problems_carry_code_request_id_and_field(client_as):
    response = await client_as(QUALITY).put("/quality/settings", json={"band_km": -1})
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "invalid_input" and body["request_id"]
    assert body["errors"][0]["field"] == "body.band_km"
    assert response.headers["x-request-id"] == body["request_id"]
