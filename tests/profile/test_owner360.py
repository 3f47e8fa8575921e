"""The owner 360 view and the lifecycle it shows, derived from facts as they happen."""

from sqlalchemy import text

from shared.auth import Caller, CallerKind, StaffRole
from tests.profile.conftest import (
    create_owner,
    dms_batch,
    events_after,
    last_seq,
    make_vin,
    owner_caller,
    scalar,
)

AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))
ENGINEER = Caller(
    kind=CallerKind.STAFF, subject="qe@test", roles=frozenset({StaffRole.QUALITY_ENGINEER})
)


async def imported_owner(client, ref: str) -> str:
    await client.post("/imports", json=dms_batch(owner_ref=ref))
    owners = (await client.get("/owners")).json()["items"]
    return owners[-1]["id"]


async def test_the_360_view_shows_the_owner_whole(client_as, dealer_a):
    dealer = client_as(dealer_a)
    owner_id = await imported_owner(dealer, "V1")
    owner = client_as(owner_caller(owner_id))
    await owner.put(
        f"/owners/{owner_id}/consents",
        json={"purpose": "marketing", "channel": "app_push", "granted": True,
              "notice_version": "v2"},
    )  # fmt: skip
    await owner.post(
        "/events",
        json={"events": [{"type": "app_opened", "occurred_at": "2026-11-01T08:00:00Z"}]},
    )
    response = await owner.get(f"/owners/{owner_id}/360")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["identity"] | {"owner_id": None} == {
        "owner_id": None, "full_name": "Li Wei", "email": "li.wei@example.com",
        "phone": "+86 138 0000 0000", "city": "Shanghai", "preferred_language": "zh",
        "masked": False, "merged_into": None, "erased": False,
    }  # fmt: skip
    [vehicle] = view["vehicles"]
    assert vehicle["components"][0]["batch_code"] == "B2025-03"
    assert [(r["role"], r["owner_id"]) for r in vehicle["roles"]] == [("owner", owner_id)]
    assert [step["status"] for step in view["orders"][0]["timeline"]] == ["in_transit"]
    assert view["service_history"][0]["mileage_km"] == 15000
    assert view["consents"][0]["purpose"] == "marketing"
    assert view["lifecycle"]["stage"] == "purchase"
    kinds = {item["kind"] for item in view["timeline"]}
    assert {"interaction.app_opened", "order.in_transit", "service_visit.maintenance",
            "consent.granted", "lifecycle.purchase"} <= kinds  # fmt: skip
    times = [item["at"] for item in view["timeline"]]
    assert times == sorted(times, reverse=True)


async def test_identity_is_masked_for_roles_that_do_not_need_it_and_staff_reads_are_audited(
    client_as, admin, dealer_a, profile_app
):
    owner_id = await imported_owner(client_as(dealer_a), "V2")
    masked = (await client_as(ENGINEER).get(f"/owners/{owner_id}/360")).json()["identity"]
    assert masked["masked"] is True
    assert masked["full_name"] == "L*****"
    assert masked["email"] == "l***@example.com"
    assert masked["phone"] == "***0000"
    full = (await client_as(AGENT).get(f"/owners/{owner_id}/360")).json()["identity"]
    assert full["full_name"] == "Li Wei"
    await client_as(owner_caller(owner_id)).get(f"/owners/{owner_id}/360")  # not staff: no entry
    await client_as(AGENT).get(f"/owners/{owner_id}")

    audit = (await admin.get(f"/owners/{owner_id}/audit")).json()
    assert sorted((e["actor"], e["action"]) for e in audit) == [
        ("agent@test", "read"), ("agent@test", "read_360"), ("qe@test", "read_360"),
    ]  # fmt: skip
    assert {e["source"] for e in audit} == {"profile"}
    assert (await client_as(AGENT).get(f"/owners/{owner_id}/audit")).status_code == 403


async def test_owner_reads_are_masked_alike_for_roles_that_do_not_need_identity(
    client_as, dealer_a
):
    """Not only the 360 view: the owner and the owner list (they showed a quality engineer
    the contacts in full)."""
    owner_id = await imported_owner(client_as(dealer_a), "V3")
    one = (await client_as(ENGINEER).get(f"/owners/{owner_id}")).json()
    listed = (await client_as(ENGINEER).get("/owners", params={"limit": 200})).json()["items"]
    for shown in (one, next(item for item in listed if item["id"] == owner_id)):
        assert (shown["full_name"], shown["email"], shown["phone"]) == (
            "L*****", "l***@example.com", "***0000"
        )  # fmt: skip
    assert (await client_as(AGENT).get(f"/owners/{owner_id}")).json()["full_name"] == "Li Wei"


async def test_personal_fields_are_stored_sealed(client_as, dealer_a, profile_app):
    owner_id = await create_owner(client_as(dealer_a), full_name="Zhou Min", phone="+8613900001111")
    async with profile_app.state.database.transaction() as session:
        row = (
            await session.execute(
                text("SELECT full_name, phone, phone_hash FROM owners WHERE id = :id"),
                {"id": owner_id},
            )
        ).one()
    assert "Zhou" not in row.full_name and row.full_name.startswith("v1:")
    assert "13900001111" not in row.phone
    assert len(row.phone_hash) == 64


async def test_the_360_view_is_isolated(client_as, dealer_a, dealer_b):
    owner_id = await imported_owner(client_as(dealer_a), "V3")
    assert (await client_as(dealer_b).get(f"/owners/{owner_id}/360")).status_code == 404
    stranger = owner_caller(await create_owner(client_as(dealer_a)))
    assert (await client_as(stranger).get(f"/owners/{owner_id}/360")).status_code == 404
    west_agent = AGENT.model_copy(update={"region": "West"})
    assert (await client_as(west_agent).get(f"/owners/{owner_id}/360")).status_code == 404


async def test_the_lifecycle_follows_the_facts_and_announces_each_step(
    client_as, dealer_a, profile_app
):
    dealer = client_as(dealer_a)
    owner_id = await create_owner(dealer)
    before = await last_seq(profile_app)
    await dealer.post("/leads", json={"owner_id": owner_id, "model": "ET5"})
    order = (await dealer.post("/orders", json={"owner_id": owner_id, "model": "ET5"})).json()
    await dealer.post(f"/orders/{order['id']}/status", json={"status": "delivered"})
    vin = (await dealer.post("/vehicles", json={"vin": make_vin(), "model": "ET5",
                                                "owner_id": owner_id})).json()["vin"]  # fmt: skip
    await dealer.post(
        "/service-visits",
        json={"vin": vin, "visit_type": "maintenance", "visit_date": "2026-10-01",
              "mileage_km": 9000},
    )  # fmt: skip
    second = (await dealer.post("/orders", json={"owner_id": owner_id, "model": "ES8"})).json()
    await dealer.post(f"/orders/{second['id']}/status", json={"status": "delivered"})

    changes = await events_after(profile_app, before, "cem.profile.lifecycle.stage_changed.v1")
    steps = [(c["previous_stage"], c["stage"]) for c in changes if c["owner_id"] == owner_id]
    assert steps == [
        ("awareness", "purchase"),
        ("purchase", "delivery"),
        ("delivery", "usage_and_service"),
        ("usage_and_service", "loyalty"),
    ]
    view = (await dealer.get(f"/owners/{owner_id}/360")).json()
    assert [e["because"] for e in view["lifecycle"]["history"]][-1] == "repurchase"
    assert (
        await scalar(
            profile_app, "SELECT lifecycle_stage FROM owner_facts WHERE owner_id = :id", id=owner_id
        )
        == "loyalty"
    )
