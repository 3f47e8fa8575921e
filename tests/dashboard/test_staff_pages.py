"""Each dashboard page, signed in as staff, against the demo data: the figures the page shows are
the API's for the same query, and the page is saved as a screenshot."""

import pytest

from simulator.stages.roadside import calls
from tests.dashboard.browser import Dashboard, duration, fixed, number, percent, shown
from tests.dashboard.conftest import agree
from tests.e2e.conftest import ADMIN
from tests.e2e.support import ok

# The first test here may start the platform and load the demo data (minutes on a busy machine).
pytestmark = pytest.mark.timeout(600)

OTA_JOURNEY = "ota_release_tech_enthusiasts"
DASH = "\u2013"  # between the ends of a range, as the page writes it
SLA_CARDS = ("backlog", "first_response", "resolution", "hours_to_resolve")


async def dealer_names(gateway, headers) -> dict[str | None, str]:
    dealers = ok(await gateway.get("/v1/profile/dealers", params={"limit": 200}, headers=headers))
    return {dealer["id"]: f"{dealer['code']} {dealer['name']}" for dealer in dealers["items"]}


async def feedback_agrees(dashboard: Dashboard, gateway, headers, filters: dict) -> dict:
    """The feedback page for `filters` shows the API's scores and detractor topics."""
    await dashboard.open("feedback/" + "&".join(f"{k}={v}" for k, v in filters.items()))
    groups, cards = await dashboard.rows("groups"), {}
    for name in ("score", "responses", "response_rate", "detractors"):
        cards[name] = await dashboard.figure(name)
    topics = await dashboard.rows("topics")
    topic_bars = await dashboard.chart("topics") if topics else [{"data": []}]
    scores = ok(await gateway.get("/v1/feedback/analytics/scores", params=filters, headers=headers))
    report = ok(await gateway.get("/v1/feedback/analytics/topics",
                                  params={"kind": filters["kind"]}, headers=headers))  # fmt: skip
    names = await dealer_names(gateway, headers) if filters["by"] == "dealer_id" else {}
    total = scores["total"]
    assert cards == {
        "score": fixed(total["score"]),
        "responses": shown(total["responses"]),
        "response_rate": percent(total["response_rate"]),
        "detractors": shown(total["detractors"]),
    }
    assert groups == {
        group["key"] or "": {
            "group": names.get(group["key"], shown(group["key"])),
            "score": fixed(group["total"]["score"]),
            "responses": shown(group["total"]["responses"]),
            "invited": shown(group["total"]["invited"]),
            "response_rate": percent(group["total"]["response_rate"]),
            "detractors": shown(group["total"]["detractors"]),
            "passives": shown(group["total"]["passives"]),
            "promoters": shown(group["total"]["promoters"]),
        }
        for group in scores["groups"]
    }
    assert topics == {
        topic["topic"]: {
            "topic": " · ".join(filter(None, (topic["name_en"], topic["name_zh"]))),
            "mentions": shown(topic["mentions"]),
            "share": percent(topic["share"]),
        }
        for topic in report["topics"]
    }
    assert topic_bars[0]["data"] == [topic["mentions"] for topic in report["topics"]][::-1]
    return scores


@pytest.mark.parametrize(
    ("kind", "by"), [("nps", "dealer_id"), ("nps", "touchpoint"), ("csat", "model")]
)
async def test_scores_by_dealer_touchpoint_and_model_are_the_apis(staff, gateway, kind, by):
    filters = {"kind": kind, "by": by, "period": "month"}
    scores = await agree(lambda: feedback_agrees(staff, gateway, ADMIN, filters))
    if kind == "nps":  # the demo's deliveries and services have been answered
        assert scores["total"]["responses"] > 0 and scores["groups"]
    trend = await staff.chart("trend")
    assert len(trend) == len(scores["groups"])
    await staff.screenshot(f"feedback-{kind}-by-{by}")


async def sla_agrees(dashboard: Dashboard, gateway, headers, filters: dict) -> dict:
    """The cases page for `filters` shows the API's backlog and SLA compliance."""
    await dashboard.open("cases/" + "&".join(f"{k}={v}" for k, v in filters.items()))
    rows = await dashboard.rows("rows")
    cards = {name: await dashboard.figure(name) for name in SLA_CARDS}
    report = ok(await gateway.get("/v1/tickets/reports/sla", params=filters, headers=headers))
    names = await dealer_names(gateway, headers) if filters["group_by"] == "dealer" else {}
    totals = report["totals"]
    assert cards == {
        "backlog": shown(totals["backlog"]),
        "first_response": percent(totals["first_response"]["rate"]),
        "resolution": percent(totals["resolution"]["rate"]),
        "hours_to_resolve": duration(totals["mean_hours_to_resolve"]),
    }
    assert rows == {
        f"{row['group'] or ''}|{row['period_start'] or ''}": {
            "group": names.get(row["group"], shown(row["group"])),
            "period": shown(row["period_start"]),
            "opened": shown(row["opened"]),
            "resolved": shown(row["resolved"]),
            "backlog": shown(row["backlog"]),
            "first_response_met": percent(row["first_response"]["rate"]),
            "first_response_breached": shown(row["first_response"]["breached"]),
            "resolution_met": percent(row["resolution"]["rate"]),
            "resolution_breached": shown(row["resolution"]["breached"]),
            "reopen_rate": percent(row["reopen_rate"]),
        }
        for row in report["rows"]
    }
    return report


async def test_case_backlog_and_sla_by_kind_count_the_roadside_calls(staff, gateway, demo):
    filters = {"group_by": "kind", "period": "week"}
    report = await agree(lambda: sla_agrees(staff, gateway, ADMIN, filters))
    roadside = [row for row in report["rows"] if row["group"] == "roadside_assistance"]
    assert sum(row["opened"] for row in roadside) >= len(calls(demo.world)) > 0
    await staff.screenshot("cases-by-kind")
    await agree(lambda: sla_agrees(staff, gateway, ADMIN, {"group_by": "dealer", "period": "week"}))
    await staff.screenshot("cases-by-dealer")


def band_as_shown(band: dict) -> dict:
    """A mileage band of an alert's evidence as the bands table shows it."""
    interval = (fixed(value, 2) if value is not None else "" for value in band["hazard_interval"])
    return {
        "mileage": f"{number(band['from_km'] / 1000)}{DASH}{number(band['to_km'] / 1000)}k km",
        "batch_failures": shown(band["failures"]),
        "batch_rate": fixed(band["hazard_per_10000km"], 2),
        "interval": f" {DASH} ".join(interval),
        "fleet_failures": shown(band["rest_failures"]),
        "fleet_rate": fixed(band["rest_hazard_per_10000km"], 2),
    }


async def quality_agrees(dashboard: Dashboard, gateway, alert_id: str) -> None:
    """The quality page shows the API's alerts, and the chosen one's evidence and campaign."""
    await dashboard.open(f"quality/{alert_id}")
    alerts, bands = await dashboard.rows("alerts"), await dashboard.rows("bands")
    targets, hazard = await dashboard.rows("targets"), await dashboard.chart("hazard")
    listed = ok(await gateway.get("/v1/telematics/quality/alerts", params={"limit": 100},
                                  headers=ADMIN))  # fmt: skip
    alert = ok(await gateway.get(f"/v1/telematics/quality/alerts/{alert_id}", headers=ADMIN))
    names = await dealer_names(gateway, ADMIN)
    assert {key: (row["batch"], row["failures"], row["rate_ratio"], row["lower_bound"],
                  row["threshold_km"]) for key, row in alerts.items()} == {
        item["id"]: (item["batch_code"], shown(item["failures"]), fixed(item["rate_ratio"]),
                     fixed(item["rate_ratio_lower_bound"]), fixed(item["threshold_km"], 0))
        for item in listed["items"]
    }  # fmt: skip
    assert bands == {number(band["from_km"]): band_as_shown(band) for band in alert["bands"]}
    series = {line["name"]: line["data"] for line in hazard}
    assert series["batch"] == [band["hazard_per_10000km"] for band in alert["bands"]]
    assert series["rest of fleet"] == [band["rest_hazard_per_10000km"] for band in alert["bands"]]
    assert series["batch 95% upper"] == [band["hazard_interval"][1] for band in alert["bands"]]
    # The campaign, most urgent first, as the API orders it.
    assert list(targets) == [target["vin"] for target in alert["targets"]]
    assert list(targets.values()) == [
        {"vin": target["vin"], "mileage_km": fixed(target["mileage_km"], 0),
         "days_to_threshold": fixed(target["days_to_threshold"]),
         "dealer": names.get(target["servicing_dealer_id"], shown(target["servicing_dealer_id"]))}
        for target in alert["targets"]
    ]  # fmt: skip


async def test_a_quality_alert_with_its_failure_rates_by_mileage_and_campaign(staff, gateway, demo):
    await agree(lambda: quality_agrees(staff, gateway, demo.alert["id"]))
    assert demo.alert["targets"], "the planted alert has vehicles to invite"
    await staff.screenshot("quality-alert")


async def journey_agrees(dashboard: Dashboard, gateway, key: str) -> dict:
    await dashboard.open(f"journeys/{key}")
    definitions, holdout = await dashboard.rows("definitions"), await dashboard.rows("holdout")
    steps, funnel = await dashboard.rows("steps"), await dashboard.chart("funnel")
    stages = ("entered", "running", "completed", "converted", "exited")
    cards = {name: await dashboard.figure(name) for name in stages}
    uplift = await dashboard.figure("uplift")
    listed = ok(await gateway.get("/v1/journeys/definitions", params={"limit": 100},
                                  headers=ADMIN))  # fmt: skip
    metrics = ok(await gateway.get(f"/v1/journeys/definitions/{key}/metrics", headers=ADMIN))
    assert {key: (row["status"], row["trigger"]) for key, row in definitions.items()} == {
        f"{d['key']}|{d['version']}": (d["status"], d["trigger_type"]) for d in listed["items"]
    }
    assert cards == {name: shown(metrics[name]) for name in stages}
    held = metrics["holdout"]
    assert holdout == {
        "treated": {"group": "treated", "owners": shown(metrics["entered"]),
                    "converted": shown(metrics["converted"]),
                    "conversion": percent(held["treated_conversion_rate"])},
        "held out": {"group": "held out", "owners": shown(held["held_out"]),
                     "converted": shown(held["converted"]),
                     "conversion": percent(held["holdout_conversion_rate"])},
    }  # fmt: skip
    assert uplift == percent(held["uplift"])
    assert {key: (row["standing"], row["messaged"]) for key, row in steps.items()} == {
        key: (shown(step["standing"]), shown(step["messaged"]))
        for key, step in metrics["steps"].items()
    }
    assert [(item["name"], item["value"]) for item in funnel[0]["data"]] == [
        (name, metrics[name]) for name in stages[:4]
    ]
    return metrics


async def test_the_ota_journey_funnel_and_holdout(staff, gateway, demo):
    metrics = await agree(lambda: journey_agrees(staff, gateway, OTA_JOURNEY))
    assert metrics["entered"] > 0, "the demo's OTA release reached the tech enthusiasts"
    await staff.screenshot("journey-ota")


async def owner_agrees(dashboard: Dashboard, gateway, owner_id: str) -> dict:
    await dashboard.open(f"owner/{owner_id}")
    heading = await dashboard.text("h1[data-owner]")
    points = await dashboard.figure("points")
    vehicles, cases = await dashboard.rows("vehicles"), await dashboard.rows("open_tickets")
    answers, timeline = await dashboard.rows("answers"), await dashboard.rows("timeline")
    view = ok(await gateway.get(f"/v1/profile/owners/{owner_id}/360", headers=ADMIN))
    assert heading == f"{view['identity']['full_name']} · {view['lifecycle']['stage'] or ''}"
    assert points == shown(view["points"])
    assert {vin: row["model"] for vin, row in vehicles.items()} == {
        vehicle["vin"]: vehicle["model"] for vehicle in view["vehicles"]
    }
    assert {key: (row["number"], row["kind"], row["status"]) for key, row in cases.items()} == {
        case["ticket_id"]: (shown(case["number"]), case["kind"], case["status"])
        for case in view["open_tickets"]
    }
    assert {key: row["score"] for key, row in answers.items()} == {
        answer["response_id"]: shown(answer["score"]) for answer in view["nps_csat_history"]
    }
    assert [(row["what"], row["summary"]) for row in timeline.values()] == [
        (item["kind"], item["summary"]) for item in view["timeline"]
    ]
    return view


async def test_an_owner_360_with_the_timeline(staff, gateway, demo):
    """An owner of the demo fleet who called roadside assistance."""
    emails = {call.vehicle.owner.email for call in calls(demo.world)}
    cases = ok(await gateway.get("/v1/tickets/tickets", headers=ADMIN,
                                 params={"kind": "roadside_assistance", "limit": 200}))  # fmt: skip
    for case in cases["items"]:
        owner = ok(await gateway.get(f"/v1/profile/owners/{case['owner_id']}", headers=ADMIN))
        if owner["email"] in emails:
            break
    else:
        raise AssertionError("no roadside case of the demo fleet")
    view = await agree(lambda: owner_agrees(staff, gateway, owner["id"]))
    assert "ticket.roadside_assistance" in {item["kind"] for item in view["timeline"]}
    await staff.screenshot("owner-360")
