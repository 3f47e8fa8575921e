"""Telematics through the gateway, in the platform as `make run` starts it: a vehicle a dealer
registers in profile becomes known to telematics by event; the dealer's key and the vehicle
gateway's service token send its signals; another dealer can neither send nor read."""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.auth import CallerKind
from tests.e2e.conftest import bearer, onboard_dealer
from tests.helpers import eventually
from tests.profile.conftest import make_vin

VEHICLE_GATEWAY = bearer(CallerKind.SERVICE, "vehicle-gateway")


@pytest.fixture(scope="module")
async def edge(platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as client:
        yield client


def samples(vin: str, start: datetime, count: int) -> list[dict]:
    return [
        {"vin": vin, "ts": (start + timedelta(seconds=i)).isoformat(),
         "signals": {"Vehicle.Speed": 42.0, "Vehicle.TraveledDistance": 5000.0 + 12 * i}}
        for i in range(count)
    ]  # fmt: skip


async def test_signals_of_a_registered_vehicle_flow_through_the_gateway(edge):
    dealer, stranger = await onboard_dealer(edge), await onboard_dealer(edge)
    vin = make_vin()
    created = await edge.post(
        "/v1/profile/vehicles", json={"vin": vin, "model": "ET5"}, headers=dealer.headers
    )
    assert created.status_code == 201, created.text
    start = datetime.now(UTC) - timedelta(minutes=5)
    accepted: dict = {}

    async def known_to_telematics() -> bool:
        response = await edge.post(
            "/v1/telematics/signals", json=samples(vin, start, 10), headers=dealer.headers
        )
        assert response.status_code == 200, response.text
        accepted.update(response.json())
        return accepted["accepted"] == 10

    await eventually(known_to_telematics, within_seconds=30)
    more = await edge.post(
        "/v1/telematics/signals",
        json=samples(vin, start + timedelta(seconds=5), 10),
        headers=VEHICLE_GATEWAY,
    )
    assert (more.json()["accepted"], more.json()["duplicates"]) == (5, 5)

    refused = await edge.post(
        "/v1/telematics/signals", json=samples(vin, start, 1), headers=stranger.headers
    )
    assert refused.json()["problems"][0]["message"] == "unknown vehicle"
    state = await edge.get(f"/v1/telematics/vehicles/{vin}", headers=dealer.headers)
    assert state.status_code == 200 and state.json()["speed"] == 42.0
    hidden = await edge.get(f"/v1/telematics/vehicles/{vin}", headers=stranger.headers)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")


async def test_a_batch_over_the_gateways_default_body_limit_reaches_telematics(edge):
    """10,000 samples (about 1.5 MB here) pass the gateway: telematics has a limit of its own."""
    dealer = await onboard_dealer(edge)
    vin = make_vin()
    created = await edge.post(
        "/v1/profile/vehicles", json={"vin": vin, "model": "ET5"}, headers=dealer.headers
    )
    assert created.status_code == 201, created.text
    batch = samples(vin, datetime.now(UTC) - timedelta(hours=4), 10_000)
    body = json.dumps(batch).encode()
    assert len(body) > 1_048_576

    async def accepted() -> bool:
        response = await edge.post(
            "/v1/telematics/signals",
            content=body,
            headers={**VEHICLE_GATEWAY, "content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
        return response.json()["accepted"] == 10_000

    await eventually(accepted, within_seconds=30)  # once telematics knows the vehicle
