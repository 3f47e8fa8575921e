"""Scenario 2, proactive quality warning: one production batch of a cooling-fan controller fails
far more often past about 20,000 km than the rest of the fleet. The quality engineer's analysis
raises an alert for that batch only, with its evidence; the vehicles still carrying it past or
near the threshold are the campaign's targets, most urgent first; the shipped proactive-service
journey messages each targeted owner and opens a proactive-service case at their dealer."""

import random
from datetime import UTC, date, datetime, timedelta

from tests.e2e.conftest import ADMIN
from tests.e2e.support import (
    QUALITY,
    VEHICLE_GATEWAY,
    bearer_of_owner,
    dealer_in,
    getter,
    items_where,
    ok,
    unique,
    wait_for,
)
from tests.profile.conftest import make_vin

FLEET = 120
BAD = "BAD"
FAILURES = 15


def fleet_batch(component: str, seed: int) -> tuple[dict, list[tuple[str, str, float]]]:
    """A DMS import of 120 owners with a car each: a quarter carry batch BAD, the rest one of
    four good batches; odometers between 12,000 and 32,000 km."""
    rng = random.Random(seed)
    batch: dict = {"owners": [], "vehicles": []}
    fleet = []
    for index in range(FLEET):
        external = unique("Q")
        code = BAD if index < FLEET // 4 else f"OK-{index % 4}"
        vin = make_vin()
        batch["owners"].append(
            {"external_id": external, "full_name": f"Owner {index}", "preferred_language": "en"}
        )
        batch["vehicles"].append(
            {"vin": vin, "model": "ES6", "owner_external_id": external,
             "components": [{"component": component, "part_number": "CF-1",
                             "batch_code": code}]}
        )  # fmt: skip
        fleet.append((vin, code, rng.uniform(12_000, 32_000), external))
    return batch, fleet


def odometer_samples(fleet, now: datetime) -> list[dict]:
    return [
        {"vin": vin, "ts": (now - timedelta(days=days_ago)).isoformat(),
         "signals": {"Vehicle.TraveledDistance": (mileage - km_back) * 1000}}
        for vin, _, mileage, _ in fleet
        for days_ago, km_back in ((60, 6_000), (30, 3_000), (0, 0))
    ]  # fmt: skip


def failure_visits(component: str, fleet, rng: random.Random) -> list[dict]:
    """The fan controller replaced: 15 BAD cars past 20,000 km, and three elsewhere."""
    failed = [v for v in fleet if v[1] == BAD and v[2] > 22_000][:FAILURES]
    spread = [fleet[40], fleet[70], fleet[100]]
    return [
        {"external_id": f"V-{vin}", "vin": vin, "owner_external_id": external,
         "visit_type": "repair", "visit_date": date.today().isoformat(),
         "mileage_km": int(rng.uniform(max(20_000, mileage - 6_000), mileage)
                           if code == BAD else mileage - 4_000),
         "parts": [{"component": component, "part_number": "CF-2", "batch_code": "NEW"}]}
        for vin, code, mileage, external in [*failed, *spread]
    ]  # fmt: skip


async def test_a_failing_batch_raises_an_alert_and_a_proactive_campaign(gateway):
    component = unique("cooling_fan_controller")
    dealer = await dealer_in(gateway, unique("City"))
    campaign = unique("quality_campaign")
    ok(await gateway.post("/v1/journeys/definitions/from-template", headers=ADMIN,
                          json={"template": "quality_alert_proactive_service", "key": campaign}),
       201)  # fmt: skip
    ok(await gateway.post(f"/v1/journeys/definitions/{campaign}/versions/1/transitions",
                          json={"to": "active"}, headers=ADMIN))  # fmt: skip

    batch, fleet = fleet_batch(component, seed=11)
    bad = {vin for vin, code, _, _ in fleet if code == BAD}
    ok(await gateway.post("/v1/profile/imports", json=batch, headers=dealer.headers))
    now = datetime.now(UTC)
    samples = odometer_samples(fleet, now)

    async def all_accepted() -> dict:
        response = await gateway.post("/v1/telematics/signals", json=samples,
                                      headers=VEHICLE_GATEWAY)  # fmt: skip
        return ok(response)

    # Telematics learns the vehicles from profile's events; until then a sample is refused.
    await wait_for(all_accepted, lambda result: result["rejected"] == 0)
    visits = failure_visits(component, fleet, random.Random(7))
    failed = sum(visit["vin"] in bad for visit in visits)
    ok(await gateway.post("/v1/profile/imports", json={**batch, "service_visits": visits},
                          headers=dealer.headers))  # fmt: skip
    assert failed >= 12
    # Every vehicle's mileage derived (the campaign list needs each one's), in any order.
    for vin, _, mileage_km, *_ in fleet:
        await wait_for(
            getter(gateway, f"/v1/telematics/vehicles/{vin}", ADMIN),
            lambda state, km=mileage_km: state and (state["mileage_km"] or 0) >= km - 1,
        )

    async def analysed() -> list[dict]:
        """The engineer's analysis, then the alerts on this component with their evidence (an
        alert's evidence is brought up to date by each analysis)."""
        report = ok(await gateway.post("/v1/telematics/quality/analyses", headers=QUALITY))
        return [
            ok(await gateway.get(f"/v1/telematics/quality/alerts/{a['id']}", headers=QUALITY))
            for a in report["alerts"]
            if a["component"] == component
        ]

    # Telematics hears of the repairs by event: analyse until it has all of them.
    ours = await wait_for(
        analysed,
        lambda alerts: alerts and sum(b["failures"] for b in alerts[0]["bands"]) == failed,
    )
    assert [alert["batch_code"] for alert in ours] == [BAD]
    alert = ours[0]
    listed = ok(await gateway.get("/v1/telematics/quality/alerts", headers=QUALITY,
                                  params={"limit": 200}))  # fmt: skip
    assert alert["id"] in [item["id"] for item in listed["items"]]
    assert 17_500 <= alert["threshold_km"] <= 22_500
    assert alert["rate_ratio_lower_bound"] > 2 and alert["corrected_p_value"] < 0.01
    assert all(band["rest_exposure_km"] > 0 for band in alert["bands"])

    targets = alert["targets"]
    days = [target["days_to_threshold"] for target in targets]
    assert targets and days == sorted(days)
    repaired = {visit["vin"] for visit in visits}
    assert {target["vin"] for target in targets} <= bad - repaired

    first = targets[0]
    owner = bearer_of_owner(first["owner_id"])
    inbox = await items_where(
        gateway, "/v1/journeys/messages", owner,
        lambda message: message["template_key"] == "quality_campaign",
    )  # fmt: skip
    assert first["vin"] in inbox[0]["body"]
    cases = await items_where(
        gateway, "/v1/tickets/tickets", dealer.headers,
        lambda case: case["kind"] == "proactive_service" and case["owner_id"] == first["owner_id"],
    )  # fmt: skip
    assert cases[0]["dealer_id"] == dealer.id and cases[0]["priority"] == "high"
    untouched = next(vin for vin, code, _, _ in fleet if code != BAD)
    assert untouched not in {target["vin"] for target in targets}
