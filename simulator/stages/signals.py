"""The vehicle gateway: weeks of signals in 1,000-sample batches, then the quality engineer's
analysis once telematics has derived trips, charging, faults and mileage from them.

Telematics derives a vehicle's facts from its rows in time order, so each vehicle's samples
go out oldest first through one lane; lanes run side by side."""

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from simulator.context import Run, run_all
from simulator.telemetry import vehicle_window
from simulator.world import Fault, Vehicle

SAMPLES_PER_BATCH = 1000
VEHICLE_GATEWAY = "vehicle-gateway"
POLL_SECONDS = 1.0
LOOKUPS = 50  # VINs looked up at a time while waiting for telematics to know them


def telemetry_days(run: Run) -> list[date]:
    return [run.world.first_day + timedelta(days=n) for n in range(run.world.days)]


def lane_batches(run: Run, vehicles: list[Vehicle]) -> Iterator[tuple[list[dict], int]]:
    """1,000-sample batches of the lane's vehicles, each vehicle's samples oldest first, with
    how many vehicles the batch completed."""
    faults: dict[str, list[Fault]] = defaultdict(list)
    for fault in run.world.faults:
        faults[fault.vehicle.vin].append(fault)
    days = telemetry_days(run)
    batch: list[dict] = []
    completed = 0
    for vehicle in vehicles:
        for sample in vehicle_window(
            vehicle,
            days,
            seed=run.world.seed,
            sample_seconds=run.sample_seconds,
            faults=faults[vehicle.vin],
        ):
            batch.append(sample)
            if len(batch) == SAMPLES_PER_BATCH:
                yield batch, completed
                batch, completed = [], 0
        completed += 1
    if batch or completed:
        yield batch, completed


async def await_vehicles(run: Run) -> bool:
    """Telematics learns vehicles from profile's events; signals for a VIN it does not know
    yet would be refused. It learns them in the order they were imported: the last imported
    is asked after alone (asking after many at once took a quarter of telematics' CPU from
    the events it was working through), then each of the fleet's VINs, a few at a time (the
    platform may hold other fleets' vehicles too)."""
    pending = [vehicle.vin for vehicle in run.world.vehicles]
    task = run.stage("Telematics learning the vehicles", total=len(pending))
    deadline = asyncio.get_running_loop().time() + run.settle_seconds
    admin = run.credentials.admin()
    while pending and not await _knows(run, pending[-1], admin):
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    while pending:
        checked, pending = pending[-LOOKUPS:], pending[:-LOOKUPS]
        known = await asyncio.gather(*(_knows(run, vin, admin) for vin in checked))
        unknown = [vin for vin, is_known in zip(checked, known, strict=True) if not is_known]
        run.progress.advance(task, len(checked) - len(unknown))
        pending += unknown
        if not unknown:
            continue
        if asyncio.get_running_loop().time() > deadline:
            run.tally.notes.append(
                f"telematics did not know {len(pending)} vehicles when signals began"
            )
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


async def _knows(run: Run, vin: str, admin: dict[str, str]) -> bool:
    path = f"/v1/telematics/vehicles/{vin}"
    found = await run.gateway.get(path, headers=admin, accept=(200, 404))
    return found.status_code == 200


async def send_signals(run: Run, *, lanes: int) -> None:
    stage = "Vehicle signals"
    if not await run.offers(stage, "POST /v1/telematics/signals"):
        return
    await await_vehicles(run)
    vehicles = run.world.vehicles
    task = run.stage(f"{stage}, {run.world.days} days (vehicles)", total=len(vehicles))
    headers = run.credentials.service(VEHICLE_GATEWAY)

    async def lane(number: int) -> None:
        for batch, completed in lane_batches(run, vehicles[number::lanes]):
            if batch:
                response = await run.gateway.post("/v1/telematics/signals", batch, headers=headers)
                result = response.json()
                run.tally.add("signals", **{k: v for k, v in result.items() if k != "problems"})
                for problem in result["problems"][:1]:
                    run.tally.notes.append(f"a sample was refused: {problem}")
            run.progress.advance(task, completed)

    await run_all(range(lanes), lane, workers=lanes)


async def quality_analysis(run: Run) -> None:
    """Waits until telematics has read the vehicles' latest mileage, then runs the early
    warning as a quality engineer would (it also runs on its own every hour)."""
    stage = "Quality analysis"
    if not await run.offers(stage, "POST /v1/telematics/quality/analyses"):
        return
    if "signals" not in run.tally.counts:
        run.skip(stage, "no signals were sent")
        return
    await _await_derivation(run)
    response = await run.gateway.post(
        "/v1/telematics/quality/analyses", headers=run.credentials.quality_engineer()
    )
    report = response.json()
    run.tally.add("quality analysis", batches_tested=report["batches_tested"],
                  alerts=len(report["alerts"]))  # fmt: skip
    for alert in report["alerts"]:
        run.tally.notes.append(
            f"quality alert: {alert['component']} batch {alert['batch_code']} past "
            f"{alert['threshold_km']:,.0f} km, {alert['failures']} failures, rate ratio "
            f"{alert['rate_ratio']:.1f} (lower bound {alert['rate_ratio_lower_bound']:.1f})"
        )


async def _await_derivation(run: Run) -> None:
    """Until each vehicle's mileage has reached its last day's reading (or time runs out)."""
    admin = run.credentials.admin()
    # The last day's last reading, give or take the rounding of the odometer.
    expected = {
        vehicle.vin: vehicle.mileage_on(run.world.until) - 0.01 for vehicle in run.world.vehicles
    }
    task = run.stage("Telematics deriving trips, charging and faults", total=len(expected))
    deadline = asyncio.get_running_loop().time() + run.settle_seconds
    while True:
        caught_up = 0
        async for state in run.gateway.items("/v1/telematics/vehicles", headers=admin):
            mileage = state.get("mileage_km")
            if (
                state["vin"] in expected
                and mileage is not None
                and mileage >= expected[state["vin"]]
            ):
                caught_up += 1
        run.progress.update(task, completed=caught_up)
        if caught_up >= len(expected):
            return
        if asyncio.get_running_loop().time() > deadline:
            run.tally.notes.append(
                f"telematics had derived {caught_up} of {len(expected)} vehicles' latest mileage "
                "when the analysis ran"
            )
            return
        await asyncio.sleep(POLL_SECONDS * 2)
