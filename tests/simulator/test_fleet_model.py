"""The simulated fleet at full size, without a platform: what telematics will observe over the
telemetry window makes the faulty cooling-fan batch, and only it, stand out to the early
warning (telematics' own statistics, with its default rule)."""

from datetime import date

import numpy as np
import pytest

from services.telematics.domain import QualitySettings
from services.telematics.reliability import PartExposures, analyse_component
from simulator import catalogue as c
from simulator.world import World, build_world


@pytest.fixture(scope="module")
def fleet() -> World:
    return build_world(seed=7, owners=10_000, dealers=30, days=28, until=date(2026, 12, 1))


def observed_fan_parts(world: World) -> PartExposures:
    """Every cooling-fan controller's km inside the window: from the later of fitting and the
    first reading to the earliest of removal, failure and the last reading."""
    repairs = {visit.vehicle.vin: visit for visit in world.visits if visit.visit_type == "warranty"}
    faults = {fault.vehicle.vin: fault for fault in world.faults}
    rows = []  # (batch, fitted, removed, failure)
    for vehicle in world.vehicles:
        repair, fault = repairs.get(vehicle.vin), faults.get(vehicle.vin)
        # The DMS import reaches telematics before the signals do: a repaired part's failure
        # is recorded at the visit, an unrepaired one's at its fault code.
        failure = (
            repair.mileage_km if repair else vehicle.mileage_on(fault.raised) if fault else np.nan
        )
        removed = repair.mileage_km if repair else np.inf
        rows.append((vehicle.batches[c.COOLING_FAN], 0.0, removed, failure))
        if repair:
            rows.append((c.REPLACEMENT_BATCH[c.COOLING_FAN], repair.mileage_km, np.inf, np.nan))
    first = {v.vin: v.mileage_on(world.first_day) for v in world.vehicles}
    last = {v.vin: v.mileage_on(world.until) for v in world.vehicles}
    vins = [v.vin for v in world.vehicles for _ in range(1 + (v.vin in repairs))]
    codes = sorted({row[0] for row in rows})
    batch, fitted, removed, failure = zip(*rows, strict=True)
    start = np.maximum(np.array(fitted), [first[vin] for vin in vins])
    end = np.fmin(np.fmin(np.array(removed), [last[vin] for vin in vins]), np.array(failure))
    failure = np.where((np.array(failure) >= start) & (np.array(failure) <= end), failure, np.nan)
    return PartExposures(
        batch_codes=codes,
        batch=np.array([codes.index(code) for code in batch]),
        start_km=start,
        end_km=np.maximum(end, start),
        failure_km=failure,
    )


def test_only_the_faulty_batch_raises_an_alert(fleet):
    findings = analyse_component(observed_fan_parts(fleet), QualitySettings())
    alerted = [finding for finding in findings if finding.alert]
    assert [finding.batch_code for finding in alerted] == [c.FAULTY_BATCH]
    assert alerted[0].threshold_km == 20_000


def test_the_fleet_has_orders_at_every_status_and_both_languages(fleet):
    assert {order.status for order in fleet.orders} == {
        "delivered", "lead", "ordered", "in_production", "in_transit",
        "ready_for_delivery", "cancelled",
    }  # fmt: skip
    assert {owner.language for owner in fleet.owners} == {"zh", "en"}
    assert {post.text.language for post in fleet.posts} == {"zh", "en"}
    assert len({dealer.city.region for dealer in fleet.dealers}) >= 6
