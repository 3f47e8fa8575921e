"""Every state change writes exactly one outbox event, in the same transaction."""

from tests.profile.conftest import (
    create_dealer,
    dms_batch,
    events_after,
    last_seq,
    make_vin,
    outbox_count,
    outbox_types_since,
)


async def test_creating_a_dealer_writes_one_event(admin, profile_app):
    before = await outbox_count(profile_app)
    await create_dealer(admin)
    assert await outbox_types_since(profile_app, before) == ["cem.profile.dealer.registered.v1"]


async def test_an_import_announces_each_new_fact_once(client_as, dealer_a, profile_app):
    client = client_as(dealer_a)
    batch = dms_batch()
    before = await outbox_count(profile_app)
    first = await client.post("/imports", json=batch)
    assert first.json()["owners"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert sorted(await outbox_types_since(profile_app, before)) == [
        "cem.profile.lifecycle.stage_changed.v1",
        "cem.profile.order.status_changed.v1",
        "cem.profile.owner.registered.v1",
        "cem.profile.service_visit.completed.v1",
        "cem.profile.vehicle.registered.v1",
    ]

    after_first = await outbox_count(profile_app)
    second = await client.post("/imports", json=batch)
    assert second.status_code == 200
    for kind in ("owners", "vehicles", "orders", "service_visits"):
        assert second.json()[kind] == {"created": 0, "updated": 0, "unchanged": 1}
    assert await outbox_count(profile_app) == after_first


async def test_an_order_status_change_is_one_event_and_one_timeline_step(
    client_as, dealer_a, profile_app
):
    client = client_as(dealer_a)
    batch = dms_batch()
    await client.post("/imports", json=batch)
    batch["orders"][0] |= {"status": "delivered", "status_changed_at": "2025-05-20T09:00:00Z"}
    before = await outbox_count(profile_app)
    result = (await client.post("/imports", json=batch)).json()
    assert result["orders"] == {"created": 0, "updated": 1, "unchanged": 0}
    # Delivery after a service visit moves the owner on in the lifecycle too.
    assert await outbox_types_since(profile_app, before) == [
        "cem.profile.order.status_changed.v1",
        "cem.profile.lifecycle.stage_changed.v1",
    ]

    order = (await client.get("/orders")).json()["items"][0]
    assert [step["status"] for step in order["timeline"]] == ["in_transit", "delivered"]


async def test_a_vehicle_registered_by_api_is_announced_with_its_batches(
    client_as, dealer_a, profile_app
):
    client = client_as(dealer_a)
    before = await outbox_count(profile_app)
    response = await client.post(
        "/vehicles",
        json={
            "vin": make_vin(),
            "model": "ES8",
            "components": [
                {
                    "component": "cooling_fan_controller",
                    "part_number": "CFC-100",
                    "batch_code": "B7",
                }
            ],
        },
    )
    assert response.status_code == 201, response.text
    async with profile_app.state.database.transaction() as session:
        from sqlalchemy import text

        envelope = await session.scalar(
            text("SELECT envelope FROM outbox ORDER BY seq DESC LIMIT 1")
        )
    assert await outbox_count(profile_app) == before + 1
    assert envelope["type"] == "cem.profile.vehicle.registered.v1"
    assert envelope["dealerid"] == str(dealer_a.dealer_id)
    assert envelope["data"]["components"][0]["batch_code"] == "B7"
    assert envelope["specversion"] == "1.0"


async def test_a_recall_visit_announces_the_recalls_it_carried_out(
    client_as, dealer_a, profile_app
):
    client = client_as(dealer_a)
    vin = make_vin()
    await client.post("/vehicles", json={"vin": vin, "model": "ES6"})
    before = await last_seq(profile_app)
    response = await client.post(
        "/service-visits",
        json={"vin": vin, "visit_type": "recall", "visit_date": "2026-11-20", "mileage_km": 21000,
              "recall_codes": ["RC-2026-07"]},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["recall_codes"] == ["RC-2026-07"]
    [visit] = await events_after(profile_app, before, "cem.profile.service_visit.completed.v1")
    assert visit["recall_codes"] == ["RC-2026-07"]
