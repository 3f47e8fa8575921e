"""Profile through the gateway: dealer isolation for every resource and problem responses."""

import pytest

from shared.auth import CallerKind
from tests.e2e.conftest import bearer, onboard_dealer
from tests.profile.conftest import dms_batch, make_vin

RESOURCES = ("owners", "vehicles", "orders", "service-visits")


async def ids_after_import(gateway, dealer) -> dict[str, list[str]]:
    response = await gateway.post("/v1/profile/imports", json=dms_batch(), headers=dealer.headers)
    assert response.status_code == 200, response.text
    return {
        resource: [
            item["id"]
            for item in (
                await gateway.get(f"/v1/profile/{resource}", headers=dealer.headers)
            ).json()["items"]
        ]
        for resource in RESOURCES
    }


async def test_each_dealer_sees_only_its_own_records(gateway):
    a, b = await onboard_dealer(gateway), await onboard_dealer(gateway)
    ids_a, ids_b = await ids_after_import(gateway, a), await ids_after_import(gateway, b)

    for resource in RESOURCES:
        assert len(ids_a[resource]) == 1 and set(ids_a[resource]).isdisjoint(ids_b[resource])
        own = await gateway.get(f"/v1/profile/{resource}/{ids_a[resource][0]}", headers=a.headers)
        assert own.status_code == 200
        other = await gateway.get(f"/v1/profile/{resource}/{ids_b[resource][0]}", headers=a.headers)
        assert other.status_code == 404, (resource, other.text)
        assert other.headers["content-type"] == "application/problem+json"
    assert (await gateway.get(f"/v1/profile/dealers/{b.id}", headers=a.headers)).status_code == 404


async def test_an_owner_token_sees_only_that_owner(gateway):
    a, b = await onboard_dealer(gateway), await onboard_dealer(gateway)
    ids_a, ids_b = await ids_after_import(gateway, a), await ids_after_import(gateway, b)
    owner = bearer(CallerKind.OWNER, ids_a["owners"][0])
    for resource in RESOURCES:
        mine = (await gateway.get(f"/v1/profile/{resource}", headers=owner)).json()
        assert [item["id"] for item in mine["items"]] == ids_a[resource]
        theirs = await gateway.get(f"/v1/profile/{resource}/{ids_b[resource][0]}", headers=owner)
        assert theirs.status_code == 404


async def test_unauthenticated_calls_are_refused(gateway):
    response = await gateway.get("/v1/profile/owners")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized" or response.json()["status"] == 401


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"vin": ', "body"),
        (b'{"vin": "LRW3E7EK0NC123456", "model": "ET7"}', "body.vin"),
        (b'{"vin": 17, "model": "ET7"}', "body.vin"),
    ],
)
async def test_bad_input_is_a_problem_and_stores_nothing(gateway, content, field):
    dealer = await onboard_dealer(gateway)
    response = await gateway.post(
        "/v1/profile/vehicles",
        content=content,
        headers={**dealer.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in body["errors"]]
    assert body["request_id"] == response.headers["x-request-id"]
    listing = await gateway.get("/v1/profile/vehicles", headers=dealer.headers)
    assert listing.json()["total"] == 0


async def test_an_oversized_body_is_refused_and_stores_nothing(gateway):
    dealer = await onboard_dealer(gateway)
    batch = dms_batch()
    batch["owners"][0]["full_name"] = "x" * 200
    batch["owners"] = [dict(batch["owners"][0], external_id=f"C{i}") for i in range(8000)]
    response = await gateway.post("/v1/profile/imports", json=batch, headers=dealer.headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert (await gateway.get("/v1/profile/owners", headers=dealer.headers)).json()["total"] == 0


async def test_unknown_routes_are_404_problems(gateway):
    dealer = await onboard_dealer(gateway)
    for path in ("/v1/profile/nothing-here", "/v1/no-such-service/x", "/nowhere"):
        response = await gateway.get(path, headers=dealer.headers)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_vehicle_registered_through_the_gateway_is_visible_to_its_dealer(gateway):
    dealer = await onboard_dealer(gateway)
    vin = make_vin()
    created = await gateway.post(
        "/v1/profile/vehicles", json={"vin": vin, "model": "ET5"}, headers=dealer.headers
    )
    assert created.status_code == 201, created.text
    fetched = await gateway.get(
        f"/v1/profile/vehicles/{created.json()['id']}", headers=dealer.headers
    )
    assert fetched.json()["vin"] == vin
