"""Recall campaigns end to end; dry runs before activating; per-step measurement with the
holdout comparison."""

import uuid
from datetime import UTC, datetime

from shared.contracts.feedback import ResponseSubmitted
from shared.contracts.profile import ConsentChanged, ServiceVisitCompleted, VehicleRegistered
from tests.journeys.conftest import (
    QUALITY,
    deliver,
    make_owner,
    message_journey,
    rows,
    scalar,
    unique,
)


async def test_a_recall_from_vin_list_to_completion(
    journeys_app, publisher, client_as, steps, deliveries, clock
):
    engineer = client_as(QUALITY)
    dealer = uuid.uuid4()
    notified = await make_owner(journeys_app, publisher, vehicle=True, dealer_id=dealer)
    no_sms = await make_owner(journeys_app, publisher, vehicle=True, dealer_id=dealer)
    withdrawn = ConsentChanged(owner_id=no_sms["owner_id"], purpose="service_messages",
                               channel="sms", granted=False, notice_version="1", source="app",
                               changed_at=clock())  # fmt: skip
    await deliver(journeys_app, publisher, "consent_changed", withdrawn)
    code = unique("RC").upper()
    unknown_vin = "LNBSCB3F5JW999999"
    body = {"code": code, "title_en": "Brake hose", "title_zh": "制动软管",
            "vins": [notified["vin"], no_sms["vin"], unknown_vin]}  # fmt: skip
    recall = await engineer.ok("POST", "/recalls", 201, json=body)
    assert (recall["vehicles"], recall["resolved"]) == (3, 2)
    assert recall["unresolved_vins"] == [unknown_vin]
    await steps.run_once()
    await deliveries.run_once()

    report = await engineer.ok("GET", f"/recalls/{recall['id']}")
    assert report["notified"] == 2 and report["reach_rate"] == round(2 / 3, 4)
    vehicles = {v["vin"]: v for v in await engineer.ok("GET", f"/recalls/{recall['id']}/vehicles")}
    proof = vehicles[notified["vin"]]["proof_of_notice"]
    assert {(c["channel"], c["status"]) for c in proof["channels"]} == {
        ("app_inbox", "delivered"), ("app_push", "sent"), ("sms", "sent"), ("email", "sent")
    }  # fmt: skip
    channels = {c["channel"] for c in vehicles[no_sms["vin"]]["proof_of_notice"]["channels"]}
    assert "sms" not in channels and "app_push" in channels
    assert vehicles[unknown_vin]["proof_of_notice"] is None

    cases = await rows(
        journeys_app, "SELECT envelope->'data' AS data FROM outbox WHERE subject = :s "
        "AND envelope->'data'->>'source_id' LIKE :code", s="cem.journeys.ticket.requested.v1",
        code=f"{code}:%",
    )  # fmt: skip
    assert sorted(c["data"]["source_id"] for c in cases) == sorted(
        f"{code}:{o['vin']}" for o in (notified, no_sms)
    )
    assert {c["data"]["kind"] for c in cases} == {"service_booking"}
    assert {c["data"]["dealer_id"] for c in cases} == {str(dealer)}

    visit = ServiceVisitCompleted(
        visit_id=uuid.uuid4(), dealer_id=dealer, owner_id=notified["owner_id"],
        vehicle_id=notified["vehicle_id"], vin=notified["vin"], visit_type="recall",
        visit_date=clock().date(), mileage_km=8000, recall_codes=[code],
    )  # fmt: skip
    await deliver(journeys_app, publisher, "service_visit_completed", visit)
    report = await engineer.ok("GET", f"/recalls/{recall['id']}")
    assert report["completed"] == 1 and report["completion_rate"] == round(1 / 3, 4)
    status = await scalar(
        journeys_app, "SELECT status FROM journey_instances WHERE owner_id = :o "
        "AND journey_key = 'recall_campaign'", o=notified["owner_id"],
    )  # fmt: skip
    assert status == "completed"


async def test_recall_imports_are_checked(client_as, marketer, agent):
    engineer = client_as(QUALITY)
    bad = await engineer.post("/recalls", json={"code": "R1", "title_en": "x", "title_zh": "x",
                                                "vins": ["SHORT"]})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.vins"
    code = unique("RC").upper()
    body = {"code": code, "title_en": "x", "title_zh": "x", "vins": ["LNBSCB3F5JW000002"]}
    await engineer.ok("POST", "/recalls", 201, json=body)
    again = await marketer.post("/recalls", json=body)
    assert again.status_code == 409 and again.json()["code"] == "recall_exists"
    assert (await agent.post("/recalls", json=body)).status_code == 403
    assert (await agent.get(f"/recalls/{uuid.uuid4()}")).status_code == 404


async def test_a_dry_run_counts_and_samples_without_entering(journeys_app, publisher, marketer):
    segment = unique("seg")
    owners = {(await make_owner(journeys_app, publisher, segments=[segment]))["owner_id"]
              for _ in range(3)}  # fmt: skip
    key = unique("preview")
    await marketer.ok("POST", "/definitions", 201,
                      json=message_journey(key, audience={"segment": segment}))  # fmt: skip
    preview = await marketer.ok("GET", f"/definitions/{key}/versions/1/preview",
                                params={"sample": 2})  # fmt: skip
    assert preview["would_enter"] == 3 and len(preview["sample"]) == 2
    assert {uuid.UUID(o) for o in preview["sample"]} <= owners
    entered = "SELECT count(*) FROM journey_instances WHERE journey_key = :k"
    assert await scalar(journeys_app, entered, k=key) == 0


async def test_metrics_per_step_with_the_holdout_comparison(
    journeys_app, publisher, marketer, steps, clock
):
    segment = unique("seg")
    consenting = [await make_owner(journeys_app, publisher, segments=[segment])
                  for _ in range(16)]  # fmt: skip
    refusing = [await make_owner(journeys_app, publisher, segments=[segment], marketing=[])
                for _ in range(4)]  # fmt: skip
    key = unique("measured")
    goal = {"event": "feedback.response.submitted", "within_hours": 48}
    await marketer.activate(message_journey(key, audience={"segment": segment},
                                            holdout_percent=30, goal=goal))  # fmt: skip
    run = await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    await steps.run_once()
    held = {row["owner_id"] for row in await rows(
        journeys_app, "SELECT owner_id FROM journey_instances WHERE journey_key = :k "
        "AND holdout", k=key)}  # fmt: skip
    converting = [o["owner_id"] for o in consenting + refusing][:10]
    answers = [
        ResponseSubmitted(response_id=uuid.uuid4(), invitation_id=uuid.uuid4(), survey_key="s",
                          survey_version=1, kind="nps", owner_id=owner_id, touchpoint="app",
                          channel="app", submitted_at=datetime.now(UTC))
        for owner_id in converting
    ]  # fmt: skip
    await deliver(journeys_app, publisher, "response_submitted", *answers)

    metrics = await marketer.ok("GET", f"/definitions/{key}/metrics")
    treated_converted = len([o for o in converting if o not in held])
    assert metrics["entered"] == run["entered"] == 20 - len(held)
    assert metrics["converted"] == treated_converted
    assert metrics["holdout"]["held_out"] == len(held)
    assert metrics["holdout"]["converted"] == len(converting) - treated_converted
    expected_rate = round(treated_converted / metrics["entered"], 4)
    assert metrics["holdout"]["treated_conversion_rate"] == expected_rate
    step = metrics["steps"]["hello"]
    refused_treated = len([o for o in refusing if o["owner_id"] not in held])
    assert step["messaged"] == metrics["entered"] - refused_treated
    assert step["suppressed"].get("consent", 0) == refused_treated
    assert step["suppressed"].get("holdout", 0) == len(held)
    assert (await marketer.get(f"/definitions/{unique('none')}/metrics")).status_code == 404


async def test_an_owner_with_two_recalled_cars_gets_a_notice_and_a_case_for_each(
    journeys_app, publisher, client_as, steps
):
    owner = await make_owner(journeys_app, publisher, vehicle=True)
    second_vin = uuid.uuid4().hex[:17].upper()
    second = VehicleRegistered(vehicle_id=uuid.uuid4(), vin=second_vin, model="EC6",
                               owner_id=owner["owner_id"])  # fmt: skip
    await deliver(journeys_app, publisher, "vehicle_registered", second)
    code = unique("RC").upper()
    body = {"code": code, "title_en": "Seat belt", "title_zh": "安全带",
            "vins": [owner["vin"], second_vin, owner["vin"]]}  # fmt: skip
    recall = await client_as(QUALITY).ok("POST", "/recalls", 201, json=body)
    assert (recall["vehicles"], recall["resolved"]) == (2, 2)
    await steps.run_once()
    notices = await rows(journeys_app, "SELECT body FROM messages WHERE owner_id = :o",
                         o=owner["owner_id"])  # fmt: skip
    assert sorted(v for n in notices for v in (owner["vin"], second_vin) if v in n["body"]) == (
        sorted([owner["vin"], second_vin])
    )
    report = await client_as(QUALITY).ok("GET", f"/recalls/{recall['id']}")
    assert report["notified"] == 2 and report["reach_rate"] == 1.0
