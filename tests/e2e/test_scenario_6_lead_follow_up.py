"""Scenario 6, lead follow-up: a showroom lead and a test-drive request from the app become
cases at the dealer they name; when the dealer does not follow up within the SLA (a one-minute
first response here), the dealer's manager is reminded and the case escalates."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import ADMIN, Dealer
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


@dataclass
class Leads:
    """A showroom lead and an app's test-drive request at a dealer in a city of its own, which
    does not follow them up; a rival dealer elsewhere."""

    dealer: Dealer
    rival: Dealer
    lead: dict
    drive: dict


async def unanswered_lead(gateway) -> Leads:
    """Leads under a 1-minute first response: made as the package starts (tests/e2e/conftest.py),
    so the breach comes while other scenarios run."""
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
    return Leads(dealer, rival, lead, drive)


async def test_an_unanswered_lead_reminds_the_manager_and_escalates(gateway, overdue):
    leads: Leads = overdue.lead
    follow_up = (
        await items_where(gateway, "/v1/tickets/tickets", leads.dealer.headers,
                          lambda case: case["source_id"] == leads.lead["id"])
    )[0]  # fmt: skip
    assert follow_up["kind"] == "lead_follow_up"
    assert follow_up["dealer_id"] == leads.dealer.id and "ET9" in follow_up["subject"]
    first = {clock["kind"]: clock for clock in follow_up["sla"]}["first_response"]
    assert first["target_minutes"] == 1
    path = f"/v1/tickets/tickets/{follow_up['id']}"
    hidden = await gateway.get(path, headers=leads.rival.headers)
    assert hidden.status_code == 404

    escalated = await wait_for(
        getter(gateway, path, leads.dealer.headers),
        lambda case: case and case["escalation_level"] >= 1,
        within_seconds=120,
    )
    assert MANAGER in escalated["watchers"] and escalated["priority"] == "high"
    timeline = ok(await gateway.get(f"{path}/timeline", headers=ADMIN))
    breach = next(entry for entry in timeline if entry["action"] == "sla_breached")
    assert f"reminded {MANAGER}" in breach["detail"]

    test_drive = (
        await items_where(gateway, "/v1/tickets/tickets", leads.dealer.headers,
                          lambda case: case["source_id"] == leads.drive["id"])
    )[0]  # fmt: skip
    assert test_drive["kind"] == "test_drive" and test_drive["dealer_id"] == leads.dealer.id
    assert test_drive["requested_slot"] is not None
