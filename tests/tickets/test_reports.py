"""SLA reports: compliance, backlog, time to resolve, reopen rate and pause time, by group
and period, within the caller's scope."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Caller, CallerKind, StaffRole
from tests.tickets.conftest import new_dealer, new_owner

WEEK_ONE = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # a Monday
WEEK_TWO = WEEK_ONE + timedelta(days=7)
RANGE = {"since": "2026-06-01T00:00:00Z", "until": "2026-06-15T00:00:00Z", "time_zone": "UTC"}


@pytest.fixture
async def dealer_history(client_as, clock, sla_worker) -> Caller:
    """Three inquiries at one dealer (4 h first response, 3 days resolution):
    week one: A answered in 1 h and resolved in 2 h; B missed its first response, waited
    3 h on parts, still open. Week two: C answered at once, resolved, then reopened."""
    dealer = new_dealer()
    client = client_as(dealer)

    async def step(ticket: dict, *statuses: str) -> None:
        for status in statuses:
            response = await client.move(ticket["id"], status)
            assert response.status_code == 200, response.text

    clock.set(WEEK_ONE)
    a, b = await client.open(kind="inquiry"), await client.open(kind="inquiry")
    clock.advance(hours=1)
    await step(a, "acknowledged")
    clock.advance(hours=1)
    await step(a, "resolved")
    clock.advance(hours=3)
    await sla_worker.run_once()
    await step(b, "acknowledged", "in_progress")
    await client.post(f"/tickets/{b['id']}/pause", json={"reason": "parts_back_order"})
    clock.advance(hours=3)
    assert (await client.post(f"/tickets/{b['id']}/resume")).status_code == 200

    clock.set(WEEK_TWO)
    c = await client.open(kind="inquiry")
    await step(c, "acknowledged", "resolved", "in_progress")
    return dealer


async def test_a_dealer_reports_its_weeks(client_as, dealer_history):
    response = await client_as(dealer_history).get(
        "/reports/sla", params=RANGE | {"group_by": "kind", "period": "week"}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    week_one, week_two = report["rows"]
    assert (week_one["group"], week_one["period_start"]) == ("inquiry", "2026-06-01")
    assert (week_one["opened"], week_one["resolved"], week_one["backlog"]) == (2, 1, 1)
    assert week_one["mean_hours_to_resolve"] == 2.0
    assert week_one["first_response"] == {"met": 1, "breached": 1, "rate": 0.5}
    assert week_one["resolution"] == {"met": 1, "breached": 0, "rate": 1.0}
    assert week_one["paused_hours"] == {"parts_back_order": 3.0}
    assert week_one["reopened"] == 0 and week_one["reopen_rate"] == 0.0

    assert week_two["period_start"] == "2026-06-08"
    assert (week_two["opened"], week_two["resolved"], week_two["backlog"]) == (1, 0, 1)
    assert week_two["reopened"] == 1 and week_two["reopen_rate"] == 1.0
    assert week_two["resolution"] == {"met": 0, "breached": 0, "rate": None}
    assert week_two["mean_hours_to_resolve"] is None

    totals = report["totals"]
    assert (totals["opened"], totals["backlog"], totals["reopened"]) == (3, 2, 1)
    assert totals["first_response"] == {"met": 2, "breached": 1, "rate": 0.6667}
    assert totals["reopen_rate"] == 0.5


async def test_staff_report_a_dealer_by_month(agent, dealer_history):
    response = await agent.get(
        "/reports/sla",
        params=RANGE | {"group_by": "dealer", "period": "month",
                        "dealer_id": str(dealer_history.dealer_id)},
    )  # fmt: skip
    [month] = response.json()["rows"]
    assert month["group"] == str(dealer_history.dealer_id)
    assert month["period_start"] == "2026-06-01" and month["opened"] == 3


async def test_a_day_ends_at_midnight_in_the_reports_time_zone(client_as, dealer_history):
    # 02:00 UTC on 1 June is still 31 May in Los Angeles.
    report = await client_as(dealer_history).get(
        "/reports/sla",
        params=RANGE | {"period": "day", "time_zone": "America/Los_Angeles"},
    )
    assert [row["period_start"] for row in report.json()["rows"]] == ["2026-05-31", "2026-06-07"]


async def test_another_dealer_sees_none_of_it(client_as, dealer_history):
    other = await client_as(new_dealer()).get("/reports/sla", params=RANGE)
    assert other.status_code == 200 and other.json()["rows"] == []
    assert other.json()["totals"]["opened"] == 0
    sneaky = await client_as(new_dealer()).get(
        "/reports/sla", params=RANGE | {"dealer_id": str(dealer_history.dealer_id)}
    )
    assert sneaky.json()["rows"] == []


async def test_owners_and_marketing_get_no_reports(client_as):
    assert (await client_as(new_owner()).get("/reports/sla")).status_code == 403
    marketing = Caller(kind=CallerKind.STAFF, subject="m", roles=frozenset({StaffRole.MARKETING}))
    assert (await client_as(marketing).get("/reports/sla")).status_code == 403


async def test_bad_report_parameters_are_named(agent):
    bad = [
        ({"period": "year"}, "query.period"),
        ({"group_by": "colour"}, "query.group_by"),
        ({"time_zone": "Mars/Olympus"}, "query.time_zone"),
        ({"since": "2026-06-15T00:00:00Z", "until": "2026-06-01T00:00:00Z"}, "query.since"),
        ({"since": "2020-01-01T00:00:00Z", "until": "2026-06-01T00:00:00Z"}, "query.since"),
        ({"since": "2026-06-01T00:00:00"}, "query.since"),
    ]
    for params, field in bad:
        response = await agent.get("/reports/sla", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field, response.json()
