"""The shipped scenario journeys, installed from the catalogue and run on fixture owners."""

import uuid
from datetime import UTC, date, datetime

import pytest

from shared.contracts.feedback import ResponseSubmitted, SurveyInvitationCreated
from shared.contracts.profile import LifecycleStageChanged, ServiceVisitCompleted
from shared.contracts.telematics import CampaignTarget, QualityAlertRaised
from tests.journeys.conftest import deliver, make_owner, owner_caller, rows, unique


@pytest.fixture
async def installed(marketer):
    """Installs and activates a shipped journey; archives it after the test."""
    made: list[str] = []

    async def install(template: str) -> str:
        key = unique(template[:20])
        await marketer.install(template, key)
        made.append(key)
        return key

    yield install
    for key in made:
        await marketer.archive(key)


async def inbox_templates(client_as, owner_id) -> list[str]:
    items = await client_as(owner_caller(owner_id)).inbox()
    return sorted(m["template_key"] for m in items)


async def requests(app, owner_id, kind: str) -> list[dict]:
    found = await rows(
        app, "SELECT envelope FROM outbox WHERE envelope->>'ownerid' = :o AND subject = :s "
        "ORDER BY seq", o=str(owner_id), s=f"cem.journeys.{kind}.v1",
    )  # fmt: skip
    return [row["envelope"]["data"] for row in found]


async def test_the_catalogue_lists_the_scenarios(agent):
    shipped = await agent.ok("GET", "/journey-templates")
    assert {"ota_release_tech_enthusiasts", "purchase_anniversary_family",
            "quality_alert_proactive_service", "post_delivery_onboarding",
            "survey_invitations", "recall_campaign"} <= shipped.keys()  # fmt: skip


async def test_ota_release_reaches_tech_enthusiasts_only(
    journeys_app, publisher, marketer, installed, steps, client_as, clock
):
    fan = await make_owner(journeys_app, publisher, segments=["tech_enthusiast"])
    other = await make_owner(journeys_app, publisher, segments=["family_user"])
    key = await installed("ota_release_tech_enthusiasts")
    context = {
        "release_version": "5.0",
        "release_summary": "new parking assistant",
        "article_link": "https://cem.dev/5.0",
        "beta_link": "https://cem.dev/beta",
    }
    run = await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={"context": context})
    assert run["entered"] >= 1
    await steps.run_once()
    assert await inbox_templates(client_as, fan["owner_id"]) == ["ota_article"]
    clock.advance(hours=24)  # one marketing push a day
    await steps.run_once()
    assert await inbox_templates(client_as, fan["owner_id"]) == [
        "ota_article", "ota_beta_invitation"
    ]  # fmt: skip
    assert await inbox_templates(client_as, other["owner_id"]) == []
    [tag] = await requests(journeys_app, fan["owner_id"], "tag.changed")
    assert tag["tag"] == "ota_beta_invited" and tag["added"] is True


async def test_first_anniversary_for_family_users(
    journeys_app, publisher, installed, steps, client_as, clock, agent
):
    today = clock().date()
    year_ago = date(today.year - 1, today.month, today.day)
    families = [await make_owner(journeys_app, publisher, segments=["family_user"],
                                 delivered=year_ago) for _ in range(4)]  # fmt: skip
    commuter = await make_owner(journeys_app, publisher, segments=["commuter"],
                                delivered=year_ago)  # fmt: skip
    newcomer = await make_owner(journeys_app, publisher, segments=["family_user"],
                                delivered=date(today.year, 1, 5))  # fmt: skip
    key = await installed("purchase_anniversary_family")
    await steps.run_once()
    await steps.run_once()  # the day is scheduled once
    contacted = 0
    for family in families:
        templates = await inbox_templates(client_as, family["owner_id"])
        log = await agent.ok("GET", f"/owners/{family['owner_id']}/decisions",
                             params={"journey_key": key})  # fmt: skip
        if [d["reason"] for d in log["items"]] == ["holdout"]:
            assert templates == []
            continue
        contacted += 1
        assert templates == ["child_seat_coupon", "family_trip_guide"]
        [coupon] = await requests(journeys_app, family["owner_id"], "coupon.issued")
        assert coupon["coupon"] == "child_seat"
    assert contacted >= 1
    for bystander in (commuter, newcomer):
        assert await inbox_templates(client_as, bystander["owner_id"]) == []


def quality_alert(targets: list[CampaignTarget]) -> QualityAlertRaised:
    return QualityAlertRaised(
        alert_id=uuid.uuid4(), component="cooling_fan_controller", batch_code="B-17",
        failures=12, exposure_km=3.2e6, rate_ratio=4.1, rate_ratio_lower_bound=2.3,
        p_value=0.0004, threshold_km=20000, targets=targets, raised_at=datetime.now(UTC),
    )  # fmt: skip


async def test_proactive_service_campaign_for_a_quality_alert(
    journeys_app, publisher, installed, steps, client_as, clock, marketer
):
    dealer = uuid.uuid4()
    at_risk = [await make_owner(journeys_app, publisher, vehicle=True, dealer_id=dealer,
                                language=lang) for lang in ("en", "zh")]  # fmt: skip
    key = await installed("quality_alert_proactive_service")
    targets = [
        CampaignTarget(vehicle_id=o["vehicle_id"], vin=o["vin"], owner_id=o["owner_id"],
                       servicing_dealer_id=dealer, mileage_km=21000, days_to_threshold=0)
        for o in at_risk
    ] + [CampaignTarget(vehicle_id=uuid.uuid4(), vin="LNBSCB3F5JW000001", mileage_km=19000,
                        days_to_threshold=12)]  # fmt: skip
    alert = quality_alert(targets)
    await deliver(journeys_app, publisher, "quality_alert_raised", alert)
    await steps.run_once()
    for owner in at_risk:
        [message] = await client_as(owner_caller(owner["owner_id"])).inbox()
        assert message["template_key"] == "quality_campaign" and owner["vin"] in message["body"]
        assert {d["channel"] for d in message["deliveries"]} == {"app_push", "sms"}
        [case] = await requests(journeys_app, owner["owner_id"], "ticket.requested")
        assert case["kind"] == "proactive_service" and case["dealer_id"] == str(dealer)
        assert case["source_type"] == "quality_alert"
        assert case["source_id"] == f"{alert.alert_id}:{owner['vehicle_id']}"
    [chinese] = await client_as(owner_caller(at_risk[1]["owner_id"])).inbox()
    assert chinese["title"] == "为您的爱车免费检测" and chinese["language"] == "zh"

    serviced, waiting = at_risk
    visit = ServiceVisitCompleted(
        visit_id=uuid.uuid4(), dealer_id=dealer, owner_id=serviced["owner_id"],
        vehicle_id=serviced["vehicle_id"], vin=serviced["vin"], visit_type="repair",
        visit_date=clock().date(), mileage_km=21500,
    )  # fmt: skip
    await deliver(journeys_app, publisher, "service_visit_completed", visit)
    clock.advance(days=31)
    await steps.run_once()
    assert await inbox_templates(client_as, serviced["owner_id"]) == ["quality_campaign"]
    assert await inbox_templates(client_as, waiting["owner_id"]) == [
        "quality_campaign", "quality_campaign_reminder"
    ]  # fmt: skip
    metrics = await marketer.ok("GET", f"/definitions/{key}/metrics")
    assert metrics["entered"] == 2 and metrics["converted"] == 1 and metrics["completed"] == 2


async def test_post_delivery_onboarding(
    journeys_app, publisher, installed, steps, client_as, clock
):
    owner = await make_owner(journeys_app, publisher, vehicle=True)
    await installed("post_delivery_onboarding")
    stage = LifecycleStageChanged(owner_id=owner["owner_id"], previous_stage="purchase",
                                  stage="delivery", changed_at=clock())  # fmt: skip
    await deliver(journeys_app, publisher, "lifecycle_changed", stage)
    await steps.run_once()
    assert await inbox_templates(client_as, owner["owner_id"]) == ["onboarding_welcome"]
    clock.advance(hours=73)
    await steps.run_once()
    clock.advance(hours=169)
    await steps.run_once()
    assert await inbox_templates(client_as, owner["owner_id"]) == [
        "onboarding_tips", "onboarding_welcome"
    ]  # fmt: skip
    [survey] = await requests(journeys_app, owner["owner_id"], "survey.requested")
    assert survey["touchpoint"] == "delivery"
    [points] = await requests(journeys_app, owner["owner_id"], "points.awarded")
    assert points["points"] == 200


def invitation(owner_id: uuid.UUID) -> SurveyInvitationCreated:
    return SurveyInvitationCreated(
        invitation_id=uuid.uuid4(), survey_key="service_nps", survey_version=1, kind="nps",
        owner_id=owner_id, touchpoint="service", title="How was your service visit?",
        link="https://cem.dev/s/abc", token="abc", expires_at=datetime(2026, 4, 1, tzinfo=UTC),
    )  # fmt: skip


async def test_survey_invitations_become_messages_with_one_reminder(
    journeys_app, publisher, installed, steps, client_as, clock, marketer
):
    keen = await make_owner(journeys_app, publisher)
    busy = await make_owner(journeys_app, publisher)
    key = await installed("survey_invitations")
    await deliver(journeys_app, publisher, "invitation_created",
                  invitation(keen["owner_id"]), invitation(busy["owner_id"]))  # fmt: skip
    await steps.run_once()
    [message] = await client_as(owner_caller(keen["owner_id"])).inbox()
    assert message["title"] == "How was your service visit?"
    assert message["link"] == "https://cem.dev/s/abc"
    answer = ResponseSubmitted(
        response_id=uuid.uuid4(), invitation_id=uuid.uuid4(), survey_key="service_nps",
        survey_version=1, kind="nps", score=9, owner_id=keen["owner_id"], touchpoint="service",
        channel="app", submitted_at=clock(),
    )  # fmt: skip
    await deliver(journeys_app, publisher, "response_submitted", answer)
    clock.advance(hours=73)
    await steps.run_once()
    assert await inbox_templates(client_as, keen["owner_id"]) == ["survey_invitation"]
    assert await inbox_templates(client_as, busy["owner_id"]) == [
        "survey_invitation", "survey_reminder"
    ]  # fmt: skip
    metrics = await marketer.ok("GET", f"/definitions/{key}/metrics")
    assert metrics["converted"] == 1 and metrics["steps"]["invite"]["messaged"] == 2
