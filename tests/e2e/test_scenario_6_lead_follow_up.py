"""Scenario 6, lead follow-up: a showroom lead and a test-drive request from the app become
cases at the dealer they name; when the dealer does not follow up within the SLA (a one-minute
first response here), the dealer's manager is reminded and the case escalates."""

from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import ADMIN
from tests.e2e.support import (
    dealer_in,
    dealer_manager,
    getter,
    items_where,
    ok,
    owner_with_car,
    sla_policy,
    unique,
    wait_for,
)

MANAGER = "sales-manager@dealer.test"


async def test_an_unanswered_lead_reminds_the_manager_and_escalates(gateway):
    dealer, rival = await dealer_in(gateway, unique("City")), await dealer_in(gateway, "Beijing")
    await dealer_manager(gateway, dealer, MANAGER)
    await sla_policy(gateway, kind="lead_follow_up", priority=None, first=1, resolution=60)
    prospect = await owner_with_car(gateway, dealer)

    lead = {"kind": "lead", "owner_id": prospect.id, "model": "ET9", "channel": "showroom"}
    lead = ok(await gateway.post("/v1/profile/leads", json=lead, headers=dealer.headers), 201)
    slot = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    drive = {"kind": "test_drive", "dealer_id": dealer.id, "model": "ET9", "channel": "app",
             "requested_slot": slot}  # fmt: skip
    drive = ok(await gateway.post("/v1/profile/leads", json=drive, headers=prospect.headers), 201)

    follow_up = (
        await items_where(gateway, "/v1/tickets/tickets", dealer.headers,
                          lambda case: case["source_id"] == lead["id"])
    )[0]  # fmt: skip
    assert follow_up["kind"] == "lead_follow_up"
    assert follow_up["dealer_id"] == dealer.id and "ET9" in follow_up["subject"]
    first = {clock["kind"]: clock for clock in follow_up["sla"]}["first_response"]
    assert first["target_minutes"] == 1
    hidden = await gateway.get(f"/v1/tickets/tickets/{follow_up['id']}", headers=rival.headers)
    assert hidden.status_code == 404

    escalated = await wait_for(
        getter(gateway, f"/v1/tickets/tickets/{follow_up['id']}", dealer.headers),
        lambda case: case and case["escalation_level"] >= 1,
        within_seconds=120,
    )
    assert MANAGER in escalated["watchers"] and escalated["priority"] == "high"
    timeline = ok(await gateway.get(f"/v1/tickets/tickets/{follow_up['id']}/timeline",
                                    headers=ADMIN))  # fmt: skip
    breach = next(entry for entry in timeline if entry["action"] == "sla_breached")
    assert f"reminded {MANAGER}" in breach["detail"]

    test_drive = (
        await items_where(gateway, "/v1/tickets/tickets", dealer.headers,
                          lambda case: case["source_id"] == drive["id"])
    )[0]  # fmt: skip
    assert test_drive["kind"] == "test_drive" and test_drive["dealer_id"] == dealer.id
    assert test_drive["requested_slot"] is not None
