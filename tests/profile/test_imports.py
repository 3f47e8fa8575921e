"""The set-based DMS import: a batch of many owners announces and stores what the same
records sent one owner at a time would, passes each owner through every lifecycle stage on
the way (the delivery journey starts on `delivery`), and keeps its all-or-nothing and
resend-changes-nothing promises."""

from collections import defaultdict

from sqlalchemy import text

from tests.profile.conftest import (
    create_owner,
    events_after,
    last_seq,
    make_vin,
    outbox_count,
    owner_caller,
)
from tests.profile.test_errors import assert_problem


def fleet(prefix: str, owners: int) -> dict:
    """Owners with a delivered car and a visit; every third also has an order under way;
    the last one only a lead."""
    batch: dict[str, list] = {"owners": [], "vehicles": [], "orders": [], "service_visits": []}
    for number in range(owners):
        ref, vin = f"{prefix}{number}", make_vin()
        batch["owners"].append(
            {"external_id": ref, "full_name": f"Owner {number}", "city": "Hangzhou",
             "email": f"{prefix.lower()}{number}@example.com", "preferred_language": "zh"}
        )  # fmt: skip
        if number == owners - 1:
            batch["orders"].append(_order(f"L-{ref}", ref, "lead", None))
            continue
        batch["vehicles"].append(
            {"vin": vin, "model": "ES6", "owner_external_id": ref, "delivery_date": "2025-06-01",
             "components": [{"component": "smart_key_module", "part_number": "SKM-1",
                             "batch_code": f"SK-{number % 2}"}]}
        )  # fmt: skip
        batch["orders"].append(_order(f"O-{ref}", ref, "delivered", vin))
        if number % 3 == 0:
            batch["orders"].append(_order(f"N-{ref}", ref, "in_production", None))
        batch["service_visits"].append(
            {"external_id": f"V-{ref}", "vin": vin, "owner_external_id": ref,
             "visit_type": "inspection", "visit_date": "2025-06-20", "mileage_km": 900}
        )  # fmt: skip
    return batch


def _order(external_id: str, owner_ref: str, status: str, vin: str | None) -> dict:
    return {"external_id": external_id, "owner_external_id": owner_ref, "model": "ES6",
            "vin": vin, "status": status, "status_changed_at": "2025-06-01T02:00:00Z"}  # fmt: skip


def only(batch: dict, ref: str) -> dict:
    """The part of a batch that concerns one owner."""
    return {
        kind: [r for r in records if ref in (r.get("external_id"), r.get("owner_external_id"))]
        for kind, records in batch.items()
    }


async def announcements_by_owner(app, since: int, emails: dict[str, str]) -> dict[str, list]:
    """Per owner (by e-mail), the event types and lifecycle moves written after `since`."""
    async with app.state.database.transaction() as session:
        rows = (
            await session.execute(
                text("SELECT subject, envelope FROM outbox WHERE seq > :seq ORDER BY seq"),
                {"seq": since},
            )
        ).all()
    by_owner: dict[str, list] = defaultdict(list)
    for subject, envelope in rows:
        data = envelope["data"]
        step = (data["previous_stage"], data["stage"]) if "stage" in data else None
        by_owner[emails.get(envelope.get("ownerid"), "?")].append((subject, step))
    return dict(by_owner)


async def owner_emails(client) -> dict[str, str]:
    owners = (await client.get("/owners", params={"limit": 200})).json()["items"]
    return {owner["id"]: owner["email"] for owner in owners}


async def test_a_batch_announces_what_its_records_one_by_one_would(
    client_as, admin, dealer_a, dealer_b, profile_app
):
    one_by_one, together = client_as(dealer_a), client_as(dealer_b)
    batch = fleet("A", 5)
    before = await last_seq(profile_app)
    for number in range(5):
        response = await one_by_one.post("/imports", json=only(batch, f"A{number}"))
        assert response.status_code == 200, response.text
    between = await last_seq(profile_app)
    same_records = fleet("A", 5)  # the same owners and refs, other VINs
    result = await together.post("/imports", json=same_records)
    assert result.status_code == 200, result.text
    assert result.json()["orders"] == {"created": 7, "updated": 0, "unchanged": 0}

    first = await announcements_by_owner(profile_app, before, await owner_emails(one_by_one))
    second = await announcements_by_owner(profile_app, between, await owner_emails(together))
    first.pop("?", None), second.pop("?", None)
    assert first == second
    assert len(first) == 5
    # A delivered car, then its first visit: the owner passes through `delivery`.
    assert [step for _, step in first["a0@example.com"] if step] == [
        ("awareness", "delivery"),
        ("delivery", "usage_and_service"),
    ]
    assert [step for _, step in first["a4@example.com"] if step] == [("awareness", "purchase")]


async def test_a_resent_batch_changes_nothing_and_a_repeated_record_updates(
    client_as, dealer_a, profile_app
):
    client = client_as(dealer_a)
    batch = fleet("R", 4)
    assert (await client.post("/imports", json=batch)).status_code == 200
    before = await outbox_count(profile_app)
    again = (await client.post("/imports", json=batch)).json()
    assert again["owners"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert again["service_visits"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert await outbox_count(profile_app) == before

    seq = await last_seq(profile_app)
    renamed = {**batch["owners"][0], "full_name": "Renamed Owner"}
    newcomer = {**batch["owners"][1], "external_id": "R-NEW"}
    result = await client.post(
        "/imports",
        json={"owners": [newcomer, batch["owners"][0], renamed, {**newcomer, "city": "Suzhou"}]},
    )
    assert result.json()["owners"] == {"created": 1, "updated": 2, "unchanged": 1}
    owners = {o["email"]: o for o in (await client.get("/owners")).json()["items"]}
    assert owners["r0@example.com"]["full_name"] == "Renamed Owner"
    # A record repeated in one batch: the owner is created once, as its last record says.
    registered = await events_after(profile_app, seq, "cem.profile.owner.registered.v1")
    assert [event["city"] for event in registered] == ["Suzhou"]
    assert owners["r1@example.com"]["city"] == "Suzhou"


async def test_a_bad_record_late_in_a_batch_rejects_all_of_it(client_as, dealer_a, profile_app):
    client = client_as(dealer_a)
    batch = fleet("B", 6)
    batch["service_visits"][3]["vin"] = make_vin()
    before = await outbox_count(profile_app)
    assert_problem(await client.post("/imports", json=batch), 422, "body.service_visits.3.vin")
    assert (await client.get("/owners")).json()["total"] == 0
    assert await outbox_count(profile_app) == before
    batch["service_visits"][3]["vin"] = batch["vehicles"][3]["vin"]
    batch["orders"][2]["owner_external_id"] = "NOBODY"
    assert_problem(
        await client.post("/imports", json=batch), 422, "body.orders.2.owner_external_id"
    )


async def test_an_imported_delivery_pays_the_referral(client_as, dealer_a):
    dealer = client_as(dealer_a)
    referrer_id = await create_owner(dealer)
    friend_id = await create_owner(dealer, external_id="FRIEND")
    referrer = client_as(owner_caller(referrer_id))
    code = (await referrer.get(f"/owners/{referrer_id}/referral-code")).json()["code"]
    lead = await client_as(owner_caller(friend_id)).post(
        "/leads", json={"dealer_id": str(dealer_a.dealer_id), "referral_code": code}
    )
    assert lead.status_code == 201, lead.text
    orders = [_order("O-FRIEND", "FRIEND", "delivered", None)]
    assert (await dealer.post("/imports", json={"orders": orders})).status_code == 200
    assert (await dealer.post("/imports", json={"orders": orders})).status_code == 200
    points = (await referrer.get(f"/owners/{referrer_id}/points")).json()
    assert [(e["cause"], e["points"]) for e in points["entries"]] == [("referral", 1000)]
    view = (await referrer.get(f"/owners/{referrer_id}/360")).json()
    assert view["lifecycle"]["stage"] == "loyalty"


def consent(ref: str, purpose: str, granted: bool, channel: str = "app_push") -> dict:
    return {"owner_external_id": ref, "purpose": purpose, "channel": channel,
            "granted": granted, "notice_version": "2026-01"}  # fmt: skip


async def test_consents_signed_at_the_dealership_come_with_the_import(
    client_as, dealer_a, profile_app
):
    client = client_as(dealer_a)
    batch = fleet("K", 2)
    batch["consents"] = [
        consent("K0", "service_messages", True), consent("K0", "marketing", False),
        consent("K0", "location", True, channel="any"), consent("K1", "marketing", True),
    ]  # fmt: skip
    seq = await last_seq(profile_app)
    first = (await client.post("/imports", json=batch)).json()
    assert first["consents"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert (await client.post("/imports", json=batch)).json()["consents"]["unchanged"] == 4
    batch["consents"][1] = consent("K0", "marketing", True)  # changed her mind
    assert (await client.post("/imports", json=batch)).json()["consents"]["updated"] == 1
    changes = await events_after(profile_app, seq, "cem.profile.consent.changed.v1")
    assert [(c["purpose"], c["granted"], c["source"]) for c in changes] == [
        ("service_messages", True, "dms"), ("marketing", False, "dms"), ("location", True, "dms"),
        ("marketing", True, "dms"), ("marketing", True, "dms"),
    ]  # fmt: skip

    owner_id = {o["email"]: o["id"] for o in (await client.get("/owners")).json()["items"]}[
        "k0@example.com"
    ]
    seen = (await client_as(owner_caller(owner_id)).get(f"/owners/{owner_id}/consents")).json()
    assert {(c["purpose"], c["granted"]) for c in seen["current"]} == {
        ("service_messages", True),
        ("marketing", True),
        ("location", True),
    }
    assert [h["granted"] for h in seen["history"] if h["purpose"] == "marketing"] == [False, True]


async def test_a_bad_consent_names_its_field_and_changes_nothing(client_as, dealer_a, profile_app):
    client = client_as(dealer_a)
    batch = fleet("Q", 1)
    batch["consents"] = [consent("Q0", "marketing", True), consent("Q0", "location", True)]
    before = await outbox_count(profile_app)
    assert_problem(await client.post("/imports", json=batch), 422, "body.consents.1.channel")
    batch["consents"] = [consent("NOBODY", "marketing", True)]
    assert_problem(
        await client.post("/imports", json=batch), 422, "body.consents.0.owner_external_id"
    )
    assert (await client.get("/owners")).json()["total"] == 0
    assert await outbox_count(profile_app) == before
