"""Analytics on known data: NPS, CSAT and response rate by dimension and period, the counts
behind them, top detractor topics, verbatims, and who may see which dealer's figures."""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import uuid
from datetime import timedelta

from sqlalchemy import text

from services.feedback.repository import rollups
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import DealerRegistered, VehicleRegistered
from tests.feedback.conftest import answer, handled, invite, new_dealer, new_owner
from tests.helpers import eventually

NPS_SCORES = [10, 10, 9, 8, 7, 6, 5, 0, 9, 10]  # 5 promoters, 2 passives, 3 detractors


async def known_dealer(app, admin, publisher, *, model_answers: int = 4) -> Caller:
    """A dealer with ten NPS answers (four about an ET5) and one unanswered invitation."""
    dealer = new_dealer()
    vehicle = VehicleRegistered(
        vehicle_id=uuid.uuid4(), vin=f"LRW3E7EK0NC{uuid.uuid4().int % 10**6:06d}", model="ET5"
    )
    registered = await publisher(vehicle)
    await eventually(lambda: handled(app, "vehicle_registered", registered))
    for number, score in enumerate(NPS_SCORES):
        extra = {"vehicle_id": str(vehicle.vehicle_id)} if number < model_answers else {}
        await answer(app, admin, score, dealer_id=str(dealer.dealer_id), **extra)
    await invite(admin, new_owner(), dealer_id=str(dealer.dealer_id))
    return dealer


def today(clock) -> str:
    return clock.now.date().isoformat()


async def test_nps_by_touchpoint_and_model_with_the_counts_behind_it(
    feedback_app, admin, client_as, publisher, clock
):
    dealer = await known_dealer(feedback_app, admin, publisher)
    day = today(clock)
    query = {"kind": "nps", "period": "day", "start": day, "end": day, "by": "touchpoint"}
    report = (await client_as(dealer).get("/analytics/scores", params=query)).json()

    (group,) = report["groups"]
    assert group["key"] == "call_centre_contact"
    total = group["total"]
    counts = [total[name] for name in ("invited", "responses", "promoters", "passives",
                                       "detractors", "top_box")]  # fmt: skip
    assert counts == [11, 10, 5, 2, 3, 3]
    assert total["score"] == 20.0 and total["average"] == 7.4
    assert total["response_rate"] == 0.909
    assert total["from_dealer_network"] is None  # an integrity figure, for staff only
    assert [point["period_start"] for point in group["series"]] == [day]
    assert report["total"]["score"] == 20.0

    by_model = await admin.get(
        "/analytics/scores", params=query | {"by": "model", "dealer_id": str(dealer.dealer_id)}
    )
    groups = {g["key"]: g["total"] for g in by_model.json()["groups"]}
    assert groups["ET5"]["responses"] == 4 and groups["ET5"]["score"] == 75.0  # 10, 10, 9 and 8
    assert groups[None]["responses"] == 6 and groups[None]["from_dealer_network"] == 0


async def test_csat_is_the_share_of_satisfied_answers(feedback_app, admin, client_as, clock):
    dealer = new_dealer()
    for score in (5, 4, 3, 1):
        await answer(feedback_app, admin, score, survey_key="service_csat",
                     dealer_id=str(dealer.dealer_id))  # fmt: skip
    day = today(clock)
    report = await client_as(dealer).get(
        "/analytics/scores", params={"kind": "csat", "start": day, "end": day}
    )
    total = report.json()["total"]
    assert (total["responses"], total["promoters"], total["detractors"]) == (4, 2, 1)
    assert total["score"] == 50.0 and total["average"] == 3.25


async def test_a_weekly_trend_lists_every_week_including_empty_ones(
    feedback_app, admin, client_as, clock
):
    dealer = new_dealer()
    await answer(feedback_app, admin, 3, dealer_id=str(dealer.dealer_id))
    end = clock.now.date()
    start = end - timedelta(days=20)
    report = await client_as(dealer).get(
        "/analytics/scores",
        params={"period": "week", "start": start.isoformat(), "end": end.isoformat()},
    )
    series = report.json()["groups"][0]["series"]
    assert len(series) in (3, 4)  # the weeks that overlap 21 days
    assert all(point["period_start"] <= end.isoformat() for point in series)
    assert [point["responses"] for point in series] == [0] * (len(series) - 1) + [1]
    assert series[-1]["score"] == -100.0 and series[0]["score"] is None


async def test_top_detractor_topics_and_the_verbatims_behind_them(
    feedback_app, admin, client_as, clock
):
    dealer = new_dealer()
    comments = [
        (2, "智能钥匙又失灵了，早上打不开车门，太失望了"),
        (4, "The smart key keeps failing, I cannot unlock the car."),
        (5, "Charging at the station was slow and the charger failed twice."),
        (10, "The smart key works great, love it"),
    ]
    for score, comment in comments:
        await answer(feedback_app, admin, score, comment=comment, dealer_id=str(dealer.dealer_id))
    day = today(clock)
    window = {"start": day, "end": day}
    topics = (await client_as(dealer).get("/analytics/topics", params=window)).json()
    assert topics["band"] == "detractor" and topics["answers"] == 3
    assert topics["topics"][0]["topic"] == "smart_key"
    assert topics["topics"][0]["mentions"] == 2 and topics["topics"][0]["share"] == 0.667
    assert topics["topics"][0]["name_zh"] == "智能钥匙"

    verbatims = await client_as(dealer).get(
        "/analytics/verbatims", params=window | {"band": "detractor", "topic": "smart_key"}
    )
    page = verbatims.json()
    assert page["total"] == 2
    assert {item["score"] for item in page["items"]} == {2, 4}
    assert "owner_id" not in page["items"][0]
    other = await client_as(new_dealer()).get("/analytics/verbatims", params=window)
    assert other.json()["total"] == 0


async def test_kept_counts_equal_a_recount_from_the_answers(feedback_app, admin, publisher):
    dealer = await known_dealer(feedback_app, admin, publisher)
    every_cell = text(
        "SELECT grain, period_start, all_dealers, dealer_id, touchpoint, lifecycle_stage, model, "
        "kind, invited, responses, promoters, passives, detractors, top_box, score_sum, "
        "from_dealer_network FROM score_rollups ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
    )
    topics = text("SELECT * FROM topic_rollups ORDER BY 2, 3, 4, 5, 6, 7, 8, 9, 10, 11")
    database = feedback_app.state.database
    async with database.transaction() as session:
        kept = (await session.execute(every_cell)).all()
        kept_topics = [row[1:] for row in (await session.execute(topics)).all()]
    async with database.transaction() as session:
        await rollups.rebuild(session)
    async with database.transaction() as session:
        recounted = (await session.execute(every_cell)).all()
        recounted_topics = [row[1:] for row in (await session.execute(topics)).all()]
    mine = [row for row in kept if row.dealer_id == dealer.dealer_id]
    assert len(mine) == 3 * 2  # day, week and month for two models (ET5 and none)
    assert kept == recounted and kept_topics == recounted_topics


async def test_network_wide_figures_equal_the_sum_of_every_dealers(feedback_app, admin, clock):
    for score in (10, 3):
        await answer(feedback_app, admin, score, dealer_id=str(new_dealer().dealer_id))
    day = today(clock)
    window = {"period": "day", "start": day, "end": day}
    overall = (await admin.get("/analytics/scores", params=window)).json()["total"]
    by_dealer = (await admin.get("/analytics/scores", params=window | {"by": "dealer_id"})).json()
    for name in ("invited", "responses", "promoters", "passives", "detractors", "top_box"):
        assert overall[name] == sum(group["total"][name] for group in by_dealer["groups"])
    assert overall["responses"] >= 2


async def test_a_dealer_sees_only_its_own_figures(feedback_app, admin, client_as, publisher):
    dealer = await known_dealer(feedback_app, admin, publisher, model_answers=0)
    mine = {"dealer_id": str(dealer.dealer_id)}
    for path in ("/analytics/scores", "/analytics/topics", "/analytics/verbatims"):
        other = client_as(new_dealer())
        assert (await other.get(path, params=mine)).status_code == 404
        assert (await client_as(new_owner()).get(path)).status_code == 403
    other_report = (await client_as(new_dealer()).get("/analytics/scores")).json()
    assert other_report["total"]["responses"] == 0 and other_report["groups"] == []


async def test_regional_staff_see_only_their_region(feedback_app, admin, client_as, publisher):
    dealer = await known_dealer(feedback_app, admin, publisher, model_answers=0)
    registered = await publisher(
        DealerRegistered(dealer_id=dealer.dealer_id, code="D1", name="East", city="Hangzhou",
                         region="east")
    )  # fmt: skip
    await eventually(lambda: handled(feedback_app, "dealer_registered", registered))
    east, west = (
        Caller(kind=CallerKind.STAFF, subject=f"{region}@test", region=region,
               roles=frozenset({StaffRole.CX_AGENT}))
        for region in ("east", "west")
    )  # fmt: skip
    mine = {"dealer_id": str(dealer.dealer_id)}
    east_view = await client_as(east).get("/analytics/scores", params=mine)
    assert east_view.json()["total"]["responses"] == 10
    assert (await client_as(west).get("/analytics/scores", params=mine)).status_code == 404


async def test_bad_queries_name_the_parameter(client_as):
    dealer = client_as(new_dealer())
    reversed_window = await dealer.get(
        "/analytics/scores", params={"start": "2026-03-10", "end": "2026-03-01"}
    )
    assert reversed_window.status_code == 422
    assert reversed_window.json()["errors"][0]["field"] == "query.start"
    too_long = await dealer.get(
        "/analytics/scores", params={"period": "day", "start": "2024-01-01", "end": "2026-01-01"}
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "query.period"
    for start, end, field in [("0001-01-02", "0001-02-01", "query.start"),
                              ("2016-01-01", "2026-12-31", "query.start"),
                              ("9999-12-01", "9999-12-31", "query.end")]:  # fmt: skip
        for path in ("/analytics/scores", "/analytics/topics", "/analytics/verbatims"):
            extreme = await dealer.get(path, params={"start": start, "end": end})
            assert extreme.status_code == 422, (path, start, end)
            assert extreme.json()["errors"][0]["field"] == field
    unknown = await dealer.get("/analytics/scores", params={"by": "colour"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "query.by"
