"""The bench's synthetic fleet: vehicles registered through profile's events, batches of
signals, the raw COPY table, and a large fleet of parts and failures for the analysis."""

import asyncio
import math
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import numpy as np

from shared.contracts.profile import VehicleRegistered
from shared.messaging.broker import connect
from shared.messaging.envelope import Envelope

# The same columns as `signals`, no partitions and no index: the cheapest possible write.
RAW_TABLE_DDL = """
DROP TABLE IF EXISTS bench_raw_signals;
CREATE TABLE bench_raw_signals (
    vehicle_id uuid NOT NULL, ts timestamptz NOT NULL, speed double precision,
    odometer_m double precision, soc double precision, acceleration double precision,
    latitude double precision, longitude double precision, dtcs text[], is_charging boolean,
    battery_power_w double precision, charged_kwh double precision,
    consumed_kwh double precision, gear integer, assisted boolean, active_app text,
    destination text, extra jsonb
);
"""
COMPONENT = "cooling_fan_controller"
BATCH_CODES = [f"CF-2025-{index:02d}" for index in range(10)]
FAULTY = BATCH_CODES[3]
# Field hazards per km: the fleet's, and the faulty batch's past 20,000 km.
BASE_HAZARD = 0.03 / 10_000
FAULTY_HAZARD = 0.20 / 10_000
FAULTY_FROM_KM = 20_000.0


async def register_senders(nats_url: str, database_url: str, count: int) -> list:
    """Publishes VehicleRegistered events as profile would; returns once telematics knows them."""
    vehicles = [
        VehicleRegistered(vehicle_id=uuid.uuid4(), vin=f"LBENCH{index:011d}", model="EV6",
                          owner_id=uuid.uuid4())
        for index in range(count)
    ]  # fmt: skip
    client = await connect(nats_url, name="telematics-bench")
    try:
        for vehicle in vehicles:
            envelope = Envelope.wrap(vehicle)
            await client.jetstream().publish(
                envelope.type,
                envelope.model_dump_json().encode(),
                headers={"Nats-Msg-Id": str(envelope.id)},
            )
    finally:
        await client.close()
    connection = await asyncpg.connect(database_url)
    try:
        for _ in range(600):
            known = await connection.fetchval(
                "SELECT count(*) FROM vehicles WHERE vin = ANY($1)", [v.vin for v in vehicles]
            )
            if known == count:
                return vehicles
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    raise RuntimeError(f"telematics learnt {known} of {count} vehicles")


_encoder = msgspec.json.Encoder()


def batches(vehicles: list, start: datetime, count: int, size: int) -> list[bytes]:
    """JSON bodies of `size` samples: five vehicles driving for `size / 5` seconds each, every
    vehicle-second distinct across the bodies."""
    per_vehicle = size // 5
    bodies = []
    for index in range(count):
        first = (index * 5) % len(vehicles)
        block = (index * 5) // len(vehicles)
        samples = []
        for vehicle in vehicles[first : first + 5]:
            for second in range(per_vehicle):
                moment = start + timedelta(seconds=block * per_vehicle + second)
                samples.append(_sample(vehicle.vin, moment, block * per_vehicle + second))
        bodies.append(_encoder.encode(samples))
    return bodies


def _sample(vin: str, moment: datetime, second: int) -> dict:
    """Driving 15 minutes, then parked 6 (a trip ends after 300 s parked), at 20-80 km/h."""
    speed = 50 + 30 * math.sin(second / 60) if second % 1260 < 900 else 0.0
    return {
        "vin": vin,
        "ts": moment.isoformat(),
        "signals": {
            "Vehicle.Speed": round(speed, 1),
            "Vehicle.TraveledDistance": 12_000_000 + second * 14.0,
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": round(80 - second / 600, 1),
            "Vehicle.Acceleration.Longitudinal": round(math.cos(second / 60), 2),
            "Vehicle.Powertrain.Transmission.SelectedGear": 127,
            "Vehicle.ADAS.CruiseControl.IsActive": second % 300 < 120,
            "Vehicle.CurrentLocation.Latitude": round(31.2 + second * 1e-5, 6),
            "Vehicle.CurrentLocation.Longitude": round(121.4 + second * 1e-5, 6),
        },
    }


def _failures(first: np.ndarray, last: np.ndarray, faulty: np.ndarray, rng) -> np.ndarray:
    """The km of each part's first failure inside its observed span (NaN: none), drawn from
    a constant hazard, raised for the faulty batch past its threshold (memoryless draws)."""
    failure = first + rng.exponential(1 / BASE_HAZARD, len(first))
    late_start = np.maximum(first, FAULTY_FROM_KM)
    late = faulty & (failure > late_start)
    failure[late] = late_start[late] + rng.exponential(1 / FAULTY_HAZARD, int(late.sum()))
    return np.where(failure <= last, failure, np.nan)


async def fill_quality_fleet(database_url: str, count: int, seed: int = 5) -> None:
    """`count` vehicles with one fan controller each (10 batches), observed over a span of
    their mileage, with failures replaced at service (COPY, straight into telematics' tables)."""
    rng = np.random.default_rng(seed)
    last = rng.uniform(5_000, 60_000, count)
    first = np.maximum(last - rng.uniform(2_000, 15_000, count), 0)
    batch = rng.integers(0, len(BATCH_CODES), count)
    failure = _failures(first, last, batch == BATCH_CODES.index(FAULTY), rng)
    vehicle_ids = [uuid.uuid4() for _ in range(count)]
    part_ids = [uuid.uuid4() for _ in range(count)]
    today = datetime.now(UTC).date()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "vehicles",
            records=[
                (vid, f"LQUAL{i:012d}", "EV6", True, float(first[i]), float(last[i]))
                for i, vid in enumerate(vehicle_ids)
            ],
            columns=("id", "vin", "model", "registered", "first_mileage_km", "mileage_km"),
        )
        await connection.copy_records_to_table(
            "fitted_parts",
            records=[
                (
                    part_ids[i],
                    vid,
                    COMPONENT,
                    "CF-1",
                    BATCH_CODES[batch[i]],
                    0.0,
                    None if math.isnan(failure[i]) else float(failure[i]),
                )
                for i, vid in enumerate(vehicle_ids)
            ],
            columns=(
                "id",
                "vehicle_id",
                "component",
                "part_number",
                "batch_code",
                "fitted_km",
                "removed_km",
            ),
        )
        failed = np.flatnonzero(~np.isnan(failure))
        await connection.copy_records_to_table(
            "part_failures",
            records=[
                (
                    uuid.uuid4(),
                    part_ids[i],
                    vehicle_ids[i],
                    float(failure[i]),
                    datetime.now(UTC),
                    "service_visit",
                )
                for i in failed
            ],
            columns=("id", "fitted_part_id", "vehicle_id", "mileage_km", "occurred_at", "source"),
        )
        pace = rng.uniform(10, 120, count)
        await connection.copy_records_to_table(
            "daily_mileage",
            records=[
                row
                for i, vid in enumerate(vehicle_ids)
                for row in (
                    (vid, today - timedelta(days=20), float(last[i] - pace[i] * 20)),
                    (vid, today, float(last[i])),
                )
            ],
            columns=("vehicle_id", "day", "mileage_km"),
        )
        await connection.execute("ANALYZE vehicles; ANALYZE fitted_parts; ANALYZE part_failures")
    finally:
        await connection.close()
