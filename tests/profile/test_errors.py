"""Bad input gets a problem response naming the field, and changes nothing."""

import pytest

from tests.profile.conftest import dms_batch, make_vin, outbox_count


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "code", "request_id"} <= body.keys()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    if field:
        assert field in [error["field"] for error in body["errors"]], body
    return body


async def test_malformed_json_is_a_422_on_the_body(client_as, dealer_a, profile_app):
    before = await outbox_count(profile_app)
    response = await client_as(dealer_a).post(
        "/vehicles", content=b'{"vin": "', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422, "body")
    assert "malformed JSON" in body["errors"][0]["message"]
    assert await outbox_count(profile_app) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"vin": "LRW3E7EK0NC123456", "model": "ET7"}, "body.vin"),
        ({"vin": "SHORT", "model": "ET7"}, "body.vin"),
        (
            {"vin": make_vin(), "model": "ET7", "production_date": "yesterday"},
            "body.production_date",
        ),
        ({"vin": make_vin(), "model": ["ET7"]}, "body.model"),
        ({"vin": make_vin(), "model": "ET7", "selling_dealer_id": None}, "body.selling_dealer_id"),
    ],
)
async def test_invalid_vehicle_fields_are_named(client_as, dealer_a, profile_app, payload, field):
    client = client_as(dealer_a)
    before = await outbox_count(profile_app)
    assert_problem(await client.post("/vehicles", json=payload), 422, field)
    assert (await client.get("/vehicles")).json()["total"] == 0
    assert await outbox_count(profile_app) == before


async def test_a_bad_record_rejects_the_whole_import(client_as, dealer_a, profile_app):
    client = client_as(dealer_a)
    batch = dms_batch()
    batch["orders"][0]["owner_external_id"] = "NOBODY"
    before = await outbox_count(profile_app)
    assert_problem(
        await client.post("/imports", json=batch), 422, "body.orders.0.owner_external_id"
    )
    for resource in ("owners", "vehicles", "orders", "service-visits"):
        assert (await client.get(f"/{resource}")).json()["total"] == 0
    assert await outbox_count(profile_app) == before


async def test_unknown_routes_and_methods(client_as, dealer_a):
    client = client_as(dealer_a)
    assert_problem(await client.get("/no-such-thing"), 404)
    assert_problem(await client.delete("/owners"), 405)
    assert_problem(await client.get("/owners/not-a-uuid"), 422, "path.owner_id")


async def test_pagination_is_capped(client_as, dealer_a):
    assert_problem(await client_as(dealer_a).get("/owners?limit=100000"), 422, "query.limit")


async def test_an_order_cannot_move_backwards(client_as, dealer_a):
    client = client_as(dealer_a)
    await client.post("/imports", json=dms_batch())
    order = (await client.get("/orders")).json()["items"][0]
    body = assert_problem(
        await client.post(f"/orders/{order['id']}/status", json={"status": "ordered"}), 409
    )
    assert body["code"] == "illegal_order_transition"
    assert (await client.get(f"/orders/{order['id']}")).json()["status"] == "in_transit"


async def test_a_lead_order_moves_on_and_never_back_to_lead(client_as, dealer_a):
    """A prospect's order (status lead) is ordered later; a status change used to be a 500."""
    client = client_as(dealer_a)
    batch = dms_batch()
    batch["orders"][0]["status"] = "lead"
    await client.post("/imports", json=batch)
    order = (await client.get("/orders")).json()["items"][0]
    path = f"/orders/{order['id']}/status"
    assert (await client.post(path, json={"status": "ordered"})).status_code == 200
    body = assert_problem(await client.post(path, json={"status": "lead"}), 409)
    assert body["code"] == "illegal_order_transition"


async def test_only_admins_create_dealers(client_as, dealer_a):
    response = await client_as(dealer_a).post(
        "/dealers", json={"code": "X1", "name": "X", "city": "Y", "region": "Z"}
    )
    assert_problem(response, 403)
