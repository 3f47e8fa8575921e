"""Scenario 8, privacy: consents are recorded per purpose and channel with their source and
time; an owner exports everything every service holds about them, in one document, and asks
for erasure: every service confirms it, and their data is gone from what dealers and later
exports show. Every staff export, from any service, is in the owner's audit log."""

from datetime import UTC, datetime, timedelta

from shared.auth import CallerKind, StaffRole
from tests.e2e.conftest import ADMIN, bearer
from tests.e2e.support import (
    COMMUNITY_CONNECTOR,
    consent,
    dealer_in,
    getter,
    known_to_telematics,
    ok,
    owner_with_car,
    send_signals,
    trip,
    unique,
    wait_for,
)

PEERS = {"feedback", "tickets", "telematics", "journeys"}
EXPORTING = PEERS
NAME = "Chen Jing"


async def leave_traces(gateway, owner) -> str:
    """Something of the owner's in every service: a post, a case, the car's drives."""
    now = datetime.now(UTC).isoformat()
    post = {"source": "community", "source_id": unique("post"), "owner_id": owner.id,
            "body": "Loving the new seats.", "published_at": now}  # fmt: skip
    ok(await gateway.post("/v1/feedback/posts/batches", json={"posts": [post]},
                          headers=COMMUNITY_CONNECTOR))  # fmt: skip
    case = {"kind": "inquiry", "subject": "Winter tyres", "description": "Which size fits?",
            "vehicle_id": owner.vehicle_id}  # fmt: skip
    ok(await gateway.post("/v1/tickets/tickets", json=case, headers=owner.headers), 201)
    await send_signals(gateway, trip(owner.vin, datetime.now(UTC) - timedelta(hours=3), 50, 8))
    return post["source_id"]


def gaps(export: dict | None, owner, post_id: str, peers: set[str]) -> dict[str, str]:
    """What the export lacks: a service missing, or a service's part without what it holds."""
    if not export:
        return {"export": "not answered"}
    text = {name: str(export["services"].get(name)) for name in peers}
    wanted = {"feedback": post_id, "tickets": "Winter tyres", "telematics": owner.vin,
              "journeys": owner.vin}  # fmt: skip
    found = {name: f"lacks {wanted[name]}" for name in peers if wanted[name] not in text[name]}
    return found | {name: why for name, why in export["missing"].items() if name in peers}


async def test_consents_export_and_erasure_reach_every_service(gateway):
    dealer = await dealer_in(gateway, unique("City"))
    owner = await owner_with_car(gateway, dealer, name=NAME, email="chen.jing@example.com")

    await consent(gateway, owner, "marketing", "sms", granted=True)
    await consent(gateway, owner, "marketing", "email", granted=False)
    staff_recorded = {"purpose": "service_messages", "channel": "phone", "granted": True,
                      "notice_version": "2026-01", "source": "call_centre"}  # fmt: skip
    ok(await gateway.put(f"/v1/profile/owners/{owner.id}/consents", json=staff_recorded,
                         headers=ADMIN))  # fmt: skip
    consents = ok(await gateway.get(f"/v1/profile/owners/{owner.id}/consents",
                                    headers=owner.headers))  # fmt: skip
    current = {(c["purpose"], c["channel"]): c for c in consents["current"]}
    assert current[("marketing", "sms")]["granted"] is True
    assert current[("marketing", "email")]["granted"] is False
    assert current[("service_messages", "phone")]["source"] == "call_centre"
    assert all(c["changed_at"] and c["notice_version"] == "2026-01" for c in current.values())
    recorded_by = {(h["channel"], h["recorded_by"]) for h in consents["history"]}
    assert len(recorded_by) == 3 and len({who for _, who in recorded_by}) == 2  # owner, staff

    post_id = await leave_traces(gateway, owner)
    read = getter(gateway, f"/v1/profile/owners/{owner.id}/export", owner.headers)

    async def export_gaps() -> dict[str, str]:
        return gaps(await read(), owner, post_id, EXPORTING)

    await wait_for(export_gaps, lambda found: not found)
    export = await read()
    assert export["profile"]["identity"]["full_name"] == NAME
    assert len(export["profile"]["consent_history"]) == 3
    stranger = await owner_with_car(gateway, dealer)
    assert (
        await gateway.get(f"/v1/profile/owners/{owner.id}/export", headers=stranger.headers)
    ).status_code == 404

    request = ok(await gateway.post(f"/v1/profile/owners/{owner.id}/erasure-requests",
                                    headers=owner.headers), 202)  # fmt: skip
    done = await wait_for(
        getter(gateway, f"/v1/profile/owners/{owner.id}/erasure-requests/{request['id']}",
               owner.headers),
        lambda body: body and body["completed_at"] is not None,
    )  # fmt: skip
    confirmed = {s["service"] for s in done["services"] if s["confirmed"]}
    assert confirmed >= PEERS | {"profile"}, done
    assert done["status"] == "completed"

    seen_by_dealer = ok(await gateway.get(f"/v1/profile/owners/{owner.id}",
                                          headers=dealer.headers))  # fmt: skip
    assert seen_by_dealer["full_name"] != NAME and seen_by_dealer["email"] is None
    tickets_export = ok(await gateway.get(f"/v1/tickets/privacy/owners/{owner.id}/export",
                                          headers=ADMIN))  # fmt: skip
    assert tickets_export["erased_at"] is not None
    assert "Winter tyres" not in str(tickets_export["cases"])
    posts = ok(await gateway.get("/v1/feedback/posts", params={"limit": 200}, headers=ADMIN))
    assert all(p.get("owner_id") != owner.id for p in posts["items"])


async def test_the_export_holds_the_cars_telematics(gateway):
    dealer = await dealer_in(gateway, unique("City"))
    owner = await owner_with_car(gateway, dealer)
    await send_signals(gateway, trip(owner.vin, datetime.now(UTC) - timedelta(hours=3), 50, 8))
    await known_to_telematics(gateway, owner.vin)
    export = ok(await gateway.get(f"/v1/profile/owners/{owner.id}/export", headers=owner.headers))
    assert gaps(export, owner, "", {"telematics"}) == {}


async def test_every_staff_export_is_in_the_owners_audit_log_and_no_one_elses(gateway):
    dealer = await dealer_in(gateway, unique("City"))
    owner, stranger = await owner_with_car(gateway, dealer), await owner_with_car(gateway, dealer)
    agent, gatherer = unique("agent") + "@cem.test", unique("gatherer") + "@cem.test"
    for service in sorted(PEERS):
        path = f"/v1/{service}/privacy/owners/{owner.id}/export"
        ok(await gateway.get(path, headers=owner.headers))  # the owner's own: not audited
        ok(await gateway.get(path, headers=bearer(CallerKind.STAFF, agent, StaffRole.CX_AGENT)))
    # Profile gathers every service's part: its own entry and one of each service that gave one.
    gathered = bearer(CallerKind.STAFF, gatherer, StaffRole.CX_AGENT)
    ok(await gateway.get(f"/v1/profile/owners/{owner.id}/export", headers=gathered))

    def sources(log: list[dict], actor: str) -> list[str]:
        return sorted(e["source"] for e in log if e["actor"] == actor and e["action"] == "export")

    log = await wait_for(
        getter(gateway, f"/v1/profile/owners/{owner.id}/audit", ADMIN, limit=200),
        lambda log: log and sources(log, agent) == sorted(PEERS)
        and sources(log, gatherer) == sorted(PEERS | {"profile"}),
    )  # fmt: skip
    # Each service announces its exports in order: the owner's would have come first.
    assert {e["actor"] for e in log} == {agent, gatherer}
    assert {e["actor_roles"][0] for e in log} == {"cx_agent"}
    others = ok(await gateway.get(f"/v1/profile/owners/{stranger.id}/audit", headers=ADMIN))
    assert others == []
