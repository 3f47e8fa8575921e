"""Identity merges, erasure confirmed by every service, the export gathered from every
service, the other services' staff exports in the owner's audit log, and crypto-shredding."""

import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import text

from services.profile.handlers import ERASURE_CONFIRMATIONS, STAFF_EXPORTS
from services.profile.peers import PeerExports
from shared.auth import Caller, CallerKind, StaffRole
from shared.config import SERVICE_PORTS
from tests.helpers import eventually
from tests.profile.conftest import (
    create_owner,
    dms_batch,
    events_after,
    handled,
    last_seq,
    owner_caller,
    peers_replaced,
    scalar,
)

AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))


async def test_the_same_person_from_dms_and_app_is_merged_explicitly(
    client_as, dealer_a, profile_app
):
    dealer = client_as(dealer_a)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    batch = dms_batch(owner_ref=f"M{uuid.uuid4().hex[:6]}")
    batch["owners"][0]["email"] = email
    await dealer.post("/imports", json=batch)
    dms_owner = (await dealer.get("/owners")).json()["items"][-1]["id"]
    # The same person signs up in the app with another spelling of the same address.
    app_owner = await create_owner(client_as(AGENT), full_name="Wei Li", email=email.upper())
    agent = client_as(AGENT)
    assert (await agent.get(f"/owners/{app_owner}/duplicates")).json() == []  # unverified
    verification = {"kind": "email", "value": email}
    for client, owner_id in ((dealer, dms_owner), (client_as(owner_caller(app_owner)), app_owner)):
        verified = await client.post(f"/owners/{owner_id}/contact-verifications", json=verification)
        assert verified.status_code == 200, verified.text
    candidates = (await agent.get(f"/owners/{app_owner}/duplicates")).json()
    assert candidates == [{"owner_id": dms_owner, "matched_on": ["email"]}]

    before = await last_seq(profile_app)
    response = await agent.post(
        f"/owners/{app_owner}/merges",
        json={"merged_owner_id": dms_owner, "reason": "same verified email, app sign-up"},
    )
    assert response.status_code == 201, response.text
    merge = response.json()
    assert merge["matched_on"] == ["email"]
    assert merge["merged_by"] == "staff:agent@test"
    assert merge["moved"]["vehicles"] == 1 and merge["moved"]["orders"] == 1
    [event] = await events_after(profile_app, before, "cem.profile.owner.merged.v1")
    assert (event["survivor_owner_id"], event["merged_owner_id"]) == (app_owner, dms_owner)

    view = (await agent.get(f"/owners/{app_owner}/360")).json()
    assert len(view["vehicles"]) == 1 and len(view["orders"]) == 1
    assert (await agent.get(f"/owners/{dms_owner}/360")).json()["identity"][
        "merged_into"
    ] == app_owner
    again = await agent.post(
        f"/owners/{app_owner}/merges", json={"merged_owner_id": dms_owner, "reason": "again"}
    )
    assert again.status_code == 409


async def test_owners_without_a_shared_contact_are_not_merged(client_as, dealer_a):
    agent = client_as(AGENT)
    one, other = await create_owner(agent), await create_owner(agent)
    refused = await agent.post(
        f"/owners/{one}/merges", json={"merged_owner_id": other, "reason": "looks alike"}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "merge_refused"
    by_dealer = await client_as(dealer_a).post(
        f"/owners/{one}/merges", json={"merged_owner_id": other, "reason": "same person"}
    )
    assert by_dealer.status_code == 403


async def test_erasure_shreds_the_key_and_collects_every_services_confirmation(
    client_as, dealer_a, profile_app, publisher
):
    dealer = client_as(dealer_a)
    owner_id = await create_owner(dealer, full_name="Chen Jing", phone="+8613700002222")
    owner = client_as(owner_caller(owner_id))
    before = await last_seq(profile_app)
    response = await owner.post(f"/owners/{owner_id}/erasure-requests")
    assert response.status_code == 202, response.text
    request = response.json()
    assert request["status"] == "pending"
    statuses = {s["service"]: s["confirmed"] for s in request["services"]}
    assert statuses == {name: name == "profile" for name in SERVICE_PORTS}

    [asked] = await events_after(profile_app, before, "cem.profile.erasure.requested.v1")
    assert asked == {"request_id": request["id"], "owner_id": owner_id,
                     "requested_at": asked["requested_at"]}  # fmt: skip
    assert (
        await scalar(
            profile_app, "SELECT count(*) FROM owner_keys WHERE owner_id = :id", id=owner_id
        )
        == 0
    )
    shown = (await dealer.get(f"/owners/{owner_id}")).json()
    assert (shown["full_name"], shown["email"], shown["phone"]) == ("[erased]", None, None)
    assert (await owner.post(f"/owners/{owner_id}/erasure-requests")).status_code == 409

    envelopes = []
    for contract in ERASURE_CONFIRMATIONS:
        service = contract.event_type.service
        if service in SERVICE_PORTS:
            envelopes.append(
                await publisher(
                    contract(request_id=uuid.UUID(request["id"]), owner_id=uuid.UUID(owner_id),
                             service=service, records_erased=3, completed_at=datetime.now(UTC))
                )
            )  # fmt: skip
    for envelope, contract in zip(envelopes, ERASURE_CONFIRMATIONS, strict=False):
        consumer = f"{contract.event_type.service}_erasure_completed"
        await eventually(lambda c=consumer, e=envelope: handled(profile_app, c, e))

    done = (await owner.get(f"/owners/{owner_id}/erasure-requests/{request['id']}")).json()
    assert done["status"] == "completed"
    assert all(s["confirmed"] for s in done["services"])
    # In a whole-suite run the other services' own apps (their tests' session fixtures) hear the
    # same request and may confirm first with their real counts; the first confirmation counts.
    erased = {
        s["service"]: s["records_erased"] for s in done["services"] if s["service"] != "profile"
    }
    assert set(erased) == set(SERVICE_PORTS) - {"profile"}
    assert all(isinstance(count, int) and count >= 0 for count in erased.values())


async def test_erasure_requests_are_the_owners_own(client_as, dealer_a, dealer_b):
    owner_id = await create_owner(client_as(dealer_a))
    other = client_as(owner_caller(await create_owner(client_as(dealer_a))))
    assert (await other.post(f"/owners/{owner_id}/erasure-requests")).status_code == 404
    assert (
        await client_as(dealer_a).post(f"/owners/{owner_id}/erasure-requests")
    ).status_code == 403
    assert (
        await client_as(dealer_b).post(f"/owners/{owner_id}/erasure-requests")
    ).status_code == 404
    made = (await client_as(AGENT).post(f"/owners/{owner_id}/erasure-requests")).json()
    assert (await other.get(f"/owners/{owner_id}/erasure-requests/{made['id']}")).status_code == 404


def staff_export(contract, owner_id: str, actor: str, at: datetime):
    return contract(owner_id=uuid.UUID(owner_id), service=contract.event_type.service,
                    actor=actor, actor_roles=["cx_agent"], exported_at=at)  # fmt: skip


async def test_the_other_services_staff_exports_are_in_the_owners_audit_log_once(
    client_as, admin, dealer_a, profile_app, publisher
):
    owner_id = await create_owner(client_as(dealer_a))
    other_id = await create_owner(client_as(dealer_a))
    at = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
    envelopes = [
        await publisher(staff_export(contract, owner_id, "agent@test", at))
        for contract in STAFF_EXPORTS
    ]
    # Each delivered again, past the broker's de-duplication, then another owner's export:
    # once that is handled, so are the copies before it.
    later = []
    for envelope, contract in zip(envelopes, STAFF_EXPORTS, strict=True):
        await publisher(None, envelope=envelope, msg_id=uuid.uuid4())
        later.append(await publisher(staff_export(contract, other_id, "other@test", at)))
    for envelope, contract in zip(later, STAFF_EXPORTS, strict=True):
        consumer = f"{contract.event_type.service}_owner_data_exported"
        await eventually(lambda c=consumer, e=envelope: handled(profile_app, c, e))

    def exports(log: list[dict]) -> list[tuple]:
        return sorted((e["source"], e["action"], e["actor"], e["actor_roles"],
                       datetime.fromisoformat(e["at"])) for e in log)  # fmt: skip

    logged = (await admin.get(f"/owners/{owner_id}/audit")).json()
    assert exports(logged) == sorted(
        (contract.event_type.service, "export", "agent@test", ["cx_agent"], at)
        for contract in STAFF_EXPORTS
    )
    assert {e["id"] for e in logged} == {str(envelope.id) for envelope in envelopes}
    others = (await admin.get(f"/owners/{other_id}/audit")).json()
    assert {e["actor"] for e in others} == {"other@test"} and len(others) == len(STAFF_EXPORTS)


async def test_the_export_holds_everything_and_names_services_that_did_not_answer(
    client_as, dealer_a, profile_app
):
    dealer = client_as(dealer_a)
    await dealer.post("/imports", json=dms_batch(owner_ref=f"X{uuid.uuid4().hex[:6]}"))
    owner_id = (await dealer.get("/owners")).json()["items"][-1]["id"]
    owner = client_as(owner_caller(owner_id))
    await owner.post(
        "/events", json={"events": [{"type": "app_opened", "occurred_at": "2026-11-02T08:00:00Z"}]}
    )
    household = await dealer.post("/households", json={"name": "Li", "owner_ids": [owner_id]})
    household_id = household.json()["id"]
    left = await owner.delete(f"/households/{household_id}/members/{owner_id}")
    # Every other service "runs" on a port nobody listens on.
    unreachable = PeerExports(
        {name: "http://127.0.0.1:9" for name in SERVICE_PORTS if name != "profile"},
        timeout_seconds=2,
    )
    with peers_replaced(profile_app, unreachable):
        response = await owner.get(f"/owners/{owner_id}/export")
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["profile"]["identity"]["full_name"] == "Li Wei"
    assert len(export["profile"]["orders"]) == 1
    assert len(export["profile"]["service_history"]) == 1
    assert [e["type"] for e in export["profile"]["interaction_events"]] == ["app_opened"]
    [departure] = export["profile"]["household_departures"]
    assert (departure["household_id"], departure["left_at"]) == (
        household_id,
        left.json()["left_at"],
    )
    assert set(export["missing"]) == set(SERVICE_PORTS) - {"profile"}
    assert all(reason.startswith("did not answer") for reason in export["missing"].values())
    assert (await client_as(dealer_a).get(f"/owners/{owner_id}/export")).status_code == 403


async def test_the_gathering_forwards_the_caller_and_keeps_what_answered():
    seen = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers.get("x-cem-caller")
        if request.url.host == "tickets":
            return httpx.Response(200, json={"tickets": [{"number": 1}]})
        if request.url.host == "feedback":
            return httpx.Response(503, json={"detail": "down"})
        raise httpx.ConnectError("refused", request=request)

    peers = PeerExports(
        {"tickets": "http://tickets", "feedback": "http://feedback", "journeys": "http://journeys"},
        timeout_seconds=1,
        transport=httpx.MockTransport(answer),
    )
    owner_id = uuid.uuid4()
    gathered = await peers.gather(owner_id, "signed-token")
    assert gathered.services == {"tickets": {"tickets": [{"number": 1}]}}
    assert gathered.missing == {
        "feedback": "answered 503",
        "journeys": "did not answer: ConnectError",
    }
    assert seen == {
        "tickets": "signed-token",
        "feedback": "signed-token",
        "journeys": "signed-token",
    }


async def test_erasure_blanks_the_kept_answers_that_name_the_owner(
    client_as, dealer_a, profile_app
):
    """An answer kept for an Idempotency-Key holds the owner's data (a DMS creating them):
    erasure blanks it; the key's repeat is still not applied again."""
    dealer = client_as(dealer_a)
    body = {"full_name": "Zhou Min", "email": f"{uuid.uuid4().hex[:10]}@example.com"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    created = await dealer.post("/owners", json=body, headers=key)
    assert created.status_code == 201, created.text
    owner_id = created.json()["id"]
    kept = "SELECT count(*) FROM idempotent_requests WHERE position(:name IN body) > 0"

    async def recorded() -> bool:  # just after the answer was sent
        return await scalar(profile_app, kept, name=b"Zhou Min") == 1

    await eventually(recorded)

    erasure = await client_as(owner_caller(owner_id)).post(f"/owners/{owner_id}/erasure-requests")
    assert erasure.status_code == 202, erasure.text

    assert await scalar(profile_app, kept, name=b"Zhou Min") == 0
    again = await dealer.post("/owners", json=body, headers=key)
    assert again.status_code == 409 and again.json()["code"] == "idempotency_answer_unavailable"


async def outbox_text_after(app, seq: int) -> str:
    async with app.state.database.transaction() as session:
        rows = await session.scalars(
            text("SELECT envelope::text FROM outbox WHERE seq > :seq"), {"seq": seq}
        )
        return "\n".join(rows)


async def test_events_carry_ids_not_the_owners_personal_data(client_as, dealer_a, profile_app):
    """Whatever happens to an owner (import, consent, lead, household, merge, erasure), the
    events that announce it name them by id: nothing readable in the streams outlives the key."""
    marker = uuid.uuid4().hex[:8]
    digits = f"139{uuid.uuid4().int % 10**8:08d}"
    name, email = f"Qian {marker}", f"qian.{marker}@example.com"
    phone = f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    dealer, agent = client_as(dealer_a), client_as(AGENT)
    before = await last_seq(profile_app)
    batch = dms_batch(owner_ref=f"P{uuid.uuid4().hex[:6]}")
    batch["owners"][0].update(full_name=name, email=email, phone=phone, phone_verified=True)
    assert (await dealer.post("/imports", json=batch)).status_code == 200
    owner_id = next(o["id"] for o in (await dealer.get("/owners")).json()["items"]
                    if o["email"] == email)  # fmt: skip
    owner = client_as(owner_caller(owner_id))
    consent = {"purpose": "marketing", "channel": "sms", "granted": True, "notice_version": "v1"}
    assert (await owner.put(f"/owners/{owner_id}/consents", json=consent)).status_code == 200
    lead = {"dealer_id": str(dealer_a.dealer_id), "model": "ET5"}
    assert (await owner.post("/leads", json=lead)).status_code == 201
    partner = await create_owner(dealer)
    household = {"name": f"{name} family", "owner_ids": [owner_id, partner]}
    assert (await dealer.post("/households", json=household)).status_code == 201
    # The app's sign-up of the same verified number merges into the imported owner.
    signed_up = await create_owner(agent, full_name=name, phone=f"+86{digits}", phone_verified=True)
    assert signed_up == owner_id
    assert (await owner.post(f"/owners/{owner_id}/erasure-requests")).status_code == 202

    written = await outbox_text_after(profile_app, before)
    for subject in (
        "owner.registered",
        "consent.changed",
        "lead.created",
        "household.membership_changed",
        "owner.merged",
        "erasure.requested",
    ):
        assert f"cem.profile.{subject}.v1" in written, subject  # the walk reached it
    assert owner_id in written
    spellings = {name, marker, email, phone, f"+86{digits}", digits, digits[-8:]}
    assert sorted(value for value in spellings if value in written) == []
