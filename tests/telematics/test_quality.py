"""The fleet quality early warning end to end in the service: profile's vehicles and service
visits, mileage from signals, the analysis, the alert with its evidence and campaign targets."""

import random
import uuid
from datetime import date, timedelta

import pytest

from shared.contracts.profile import ComponentBatch, ServiceVisitCompleted
from tests.helpers import eventually
from tests.telematics.conftest import (
    AGENT,
    QUALITY,
    handled,
    new_dealer,
    new_owner,
)

ALERT_RAISED = "cem.telematics.quality_alert.raised.v1"


async def build_fleet(register, publisher, gateway, derive, clock, app, *, faulty: bool) -> dict:
    """120 vehicles with one component from five batches, driven to 12,000-32,000 km. Three
    failures spread over the fleet; with `faulty`, batch BAD also fails 15 times past 20,000 km
    (parts replaced at service visits)."""
    component = f"fan_{uuid.uuid4().hex[:6]}"
    rng = random.Random(11)
    dealer = new_dealer()
    fleet = []
    for index in range(120):
        batch = "BAD" if index < 30 else f"OK-{index % 4}"
        part = ComponentBatch(component=component, part_number="CF-1", batch_code=batch)
        (vehicle,) = await register(owner=new_owner(), dealer=dealer, components=[part])
        fleet.append((vehicle, batch, rng.uniform(12_000, 32_000)))
    samples = []
    for vehicle, _, mileage in fleet:
        for days_ago, km in ((60, mileage - 6_000), (30, mileage - 3_000), (0, mileage)):
            samples.append(
                {"vin": vehicle.vin, "ts": (clock.now - timedelta(days=days_ago)).isoformat(),
                 "signals": {"Vehicle.TraveledDistance": km * 1000}}
            )  # fmt: skip
    for start in range(0, len(samples), 1000):
        await gateway.send(samples[start : start + 1000])
    bad_past = [v for v in fleet if v[1] == "BAD" and v[2] > 22_000][: 15 if faulty else 0]
    spread = [fleet[40], fleet[70], fleet[100]]
    visits = []
    for vehicle, _, mileage in [*bad_past, *spread]:
        failed_at = (
            rng.uniform(max(20_000, mileage - 6_000), mileage)  # while observed
            if vehicle in [v[0] for v in bad_past]
            else (mileage - 4_000)
        )
        visit = ServiceVisitCompleted(
            visit_id=uuid.uuid4(), dealer_id=dealer.dealer_id, owner_id=vehicle.owner_id,
            vehicle_id=vehicle.vehicle_id, vin=vehicle.vin, visit_type="repair",
            visit_date=date(2026, 2, 1), mileage_km=int(failed_at),
            parts=[ComponentBatch(component=component, part_number="CF-2", batch_code="NEW")],
        )  # fmt: skip
        visits.append(await publisher(visit))
    await eventually(lambda: handled(app, "service_visit_completed", *visits))
    await derive()
    return {"component": component, "fleet": fleet, "failed": {v[0].vehicle_id for v in bad_past}}


async def test_a_faulty_batch_raises_an_alert_with_evidence_and_targets(
    register, publisher, gateway, derive, clock, telematics_app, client_as
):
    built = await build_fleet(
        register, publisher, gateway, derive, clock, telematics_app, faulty=True
    )
    engineer = client_as(QUALITY)
    response = await engineer.post("/quality/analyses")
    assert response.status_code == 200, response.text
    ours = [a for a in response.json()["alerts"] if a["component"] == built["component"]]
    assert [alert["batch_code"] for alert in ours] == ["BAD"]
    (summary,) = ours
    assert 17_500 <= summary["threshold_km"] <= 22_500
    assert summary["rate_ratio_lower_bound"] > 2 and summary["corrected_p_value"] < 0.01

    alert = (await engineer.get(f"/quality/alerts/{summary['id']}")).json()
    assert sum(band["failures"] for band in alert["bands"]) == len(built["failed"]) >= 12
    assert all(band["to_km"] - band["from_km"] == 2_500 for band in alert["bands"])
    # Targets: BAD vehicles without a replacement, past or near the threshold, most urgent first.
    targets = alert["targets"]
    days = [target["days_to_threshold"] for target in targets]
    assert targets and days == sorted(days)
    bad = {v.vehicle_id: mileage for v, batch, mileage in built["fleet"] if batch == "BAD"}
    assert {uuid.UUID(t["vehicle_id"]) for t in targets} <= set(bad) - built["failed"]
    assert all(t["mileage_km"] >= summary["threshold_km"] - 2_500 for t in targets
               if t["days_to_threshold"] > 60)  # fmt: skip

    # Published once, with its targets, even when the analysis runs again.
    assert (await engineer.post("/quality/analyses")).json()["alerts_raised"] == 0
    events = await published_alerts(telematics_app, built["component"])
    assert len(events) == 1
    assert events[0]["targets_total"] == len(targets) == len(events[0]["targets"])

    listed = (await engineer.get("/quality/alerts")).json()
    assert summary["id"] in [item["id"] for item in listed["items"]]


async def published_alerts(app, component: str) -> list[dict]:
    async with app.state.database.transaction() as session:
        from sqlalchemy import text

        found = await session.scalars(
            text(
                "SELECT envelope FROM outbox WHERE subject = :type "
                "AND envelope->'data'->>'component' = :component"
            ),
            {"type": ALERT_RAISED, "component": component},
        )
        return [envelope["data"] for envelope in found]


async def test_a_healthy_fleet_raises_no_alert(
    register, publisher, gateway, derive, clock, telematics_app, client_as
):
    built = await build_fleet(
        register, publisher, gateway, derive, clock, telematics_app, faulty=False
    )
    response = await client_as(QUALITY).post("/quality/analyses")
    assert built["component"] not in [a["component"] for a in response.json()["alerts"]]
    assert await published_alerts(telematics_app, built["component"]) == []


async def test_thresholds_are_configurable_and_validated(client_as):
    engineer = client_as(QUALITY)
    settings = (await engineer.get("/quality/settings")).json()
    assert settings["min_failures"] == 3 and settings["band_km"] == 2_500
    bad = await engineer.put("/quality/settings", json={**settings, "max_corrected_p_value": 2})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.max_corrected_p_value"
    changed = await engineer.put("/quality/settings", json={**settings, "target_lead_days": 90})
    assert changed.json()["target_lead_days"] == 90
    assert (await engineer.get("/quality/settings")).json()["target_lead_days"] == 90
    await engineer.put("/quality/settings", json=settings)


@pytest.mark.parametrize("caller", [AGENT, new_dealer(), new_owner()])
async def test_quality_alerts_are_for_quality_engineers(client_as, caller):
    http = client_as(caller)
    assert (await http.get("/quality/alerts")).status_code == 403
    assert (await http.post("/quality/analyses")).status_code == 403
    assert (await http.put("/quality/settings", json={})).status_code == 403
