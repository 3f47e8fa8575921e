"""A vehicle's signals for one day, as a vehicle gateway would forward them (COVESA VSS names):
trips sampled every few seconds with harsh events, assisted driving, in-car apps and the
destination's kind; evening charging; the fault codes it carries. Pure and seeded by the
vehicle and the day, so a day's samples never change."""

import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from simulator import catalogue as c
from simulator.world import Fault, Vehicle

KWH_PER_KM = 0.16
DRIVE_GEAR, PARK_GEAR = 127, 126
PARKED_AFTER_SECONDS = 360  # longer than the 300 s that ends a trip
HARSH_MS2 = 5.2


def day_samples(
    vehicle: Vehicle, day: date, *, seed: int, sample_seconds: int, faults: list[Fault]
) -> list[dict]:
    """Every sample of `vehicle` on `day` (nothing before its delivery), oldest first."""
    if day < vehicle.delivery_date:
        return []
    rng = random.Random(f"{seed}:{vehicle.vin}:{day.isoformat()}")
    codes = [f.code for f in faults if f.raised <= day and (f.repaired is None or day < f.repaired)]
    km_today = vehicle.mileage_on(day + timedelta(days=1)) - vehicle.mileage_on(day)
    odometer_km = vehicle.mileage_on(day)
    soc = rng.uniform(45, 92)
    samples: list[dict] = []
    for number, (start, distance) in enumerate(_trip_plan(rng, vehicle, day, km_today)):
        trip = _trip(rng, vehicle, start, distance, odometer_km, soc, sample_seconds, number)
        if number == 0:
            trip[0]["signals"]["Vehicle.Diagnostics.DTCList"] = codes  # the day's first report
        samples += trip
        odometer_km += distance
        soc -= distance * KWH_PER_KM * 100 / vehicle.model.battery_kwh
    if soc < 60 or rng.random() < 0.15:
        after = datetime.fromisoformat(samples[-1]["ts"]) + timedelta(minutes=10)
        samples += _charging(rng, vehicle, day, odometer_km, max(soc, 5.0), after)
    return samples


def _local(day: date, hours: float) -> datetime:
    """`hours` after local (China Standard Time) midnight of `day`, in UTC."""
    return datetime.combine(day, time(), UTC) + timedelta(hours=hours - 8)


def _trip_plan(rng: random.Random, vehicle: Vehicle, day: date, km: float):
    """Start times and distances: a commute out and back; family users add the school run."""
    hours = [rng.uniform(7.2, 8.8), rng.uniform(17.5, 19.5)]
    if vehicle.owner.family:
        hours.insert(1, rng.uniform(15.3, 16.2))
    shares = [rng.uniform(0.8, 1.2) for _ in hours]
    return [
        (_local(day, hour), km * share / sum(shares))
        for hour, share in zip(hours, shares, strict=True)
    ]


def _trip(rng, vehicle: Vehicle, start, distance_km, odometer_km, soc, step, number) -> list[dict]:
    owner = vehicle.owner
    cruise_kmh = rng.uniform(28, 45) if distance_km < 25 else rng.uniform(55, 85)
    duration = max(distance_km / cruise_kmh * 3600, step * 2)
    count = max(int(duration // step), 2)
    destination = _destination(rng, owner, number)
    app = rng.choice(c.TECH_APPS) if owner.tech else rng.choice((*c.EVERYDAY_APPS, None))
    harsh = _harsh_moments(rng, owner.aggressive, count)
    battery = vehicle.model.battery_kwh
    samples = []
    for index in range(count + 1):
        share = index / count
        moving = 0 < index < count
        speed = cruise_kmh * (0.75 + 0.5 * abs(math.sin(index / 7))) if moving else 0.0
        signals = {
            "Vehicle.Speed": round(speed, 1),
            "Vehicle.TraveledDistance": round((odometer_km + distance_km * share) * 1000, 1),
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": round(
                soc - distance_km * share * KWH_PER_KM * 100 / battery, 2
            ),
            "Vehicle.Powertrain.TractionBattery.AccumulatedConsumedEnergy": round(
                (odometer_km + distance_km * share) * KWH_PER_KM, 3
            ),
            "Vehicle.Acceleration.Longitudinal": harsh.get(index, round(rng.uniform(-1.2, 1.2), 2)),
            "Vehicle.Powertrain.Transmission.SelectedGear": DRIVE_GEAR if moving else PARK_GEAR,
            "Vehicle.ADAS.CruiseControl.IsActive": moving and rng.random() < _assisted(owner),
            "Vehicle.Cabin.Infotainment.ActiveApp": app,
            "Vehicle.Cabin.Infotainment.Navigation.DestinationSet.Category": destination,
            **_location(vehicle, distance_km * share, number),
        }
        samples.append(_sample(vehicle, start + timedelta(seconds=index * step), signals))
    parked = dict(samples[-1]["signals"], **{"Vehicle.Speed": 0.0})
    parked_at = start + timedelta(seconds=count * step + PARKED_AFTER_SECONDS)
    samples.append(_sample(vehicle, parked_at, parked))
    return samples


def _destination(rng, owner, number: int) -> str:
    if owner.family and number == 1:
        return rng.choice(c.FAMILY_DESTINATIONS[:2])
    if owner.family and rng.random() < 0.5:
        return rng.choice(c.FAMILY_DESTINATIONS)
    return c.COMMUTER_DESTINATIONS[number % 2]


def _assisted(owner) -> float:
    return 0.7 if owner.tech else 0.08


def _harsh_moments(rng, aggressive: bool, count: int) -> dict[int, float]:
    events = rng.randint(1, 3) if aggressive else int(rng.random() < 0.05)
    return {
        rng.randrange(1, count): rng.choice((HARSH_MS2, -HARSH_MS2 - 0.4))
        for _ in range(events)
        if count > 1
    }


def _location(vehicle: Vehicle, travelled_km: float, number: int) -> dict:
    """Around the dealer's city; out on even trips, back on odd ones."""
    city = vehicle.owner.dealer.city
    offset = (travelled_km if number % 2 == 0 else -travelled_km) / 111.0 * 0.5
    return {
        "Vehicle.CurrentLocation.Latitude": round(city.latitude + offset, 5),
        "Vehicle.CurrentLocation.Longitude": round(city.longitude + offset, 5),
    }


def _charging(rng, vehicle: Vehicle, day, odometer_km, soc, after: datetime) -> list[dict]:
    """Home charging at night (7 kW) or, now and then, a fast charger (120 kW) in the evening;
    never before the day's last trip has ended."""
    fast = rng.random() < 0.25
    power_kw = 120.0 if fast else 7.0
    step = 300 if fast else 1800
    start = max(_local(day, rng.uniform(20.0, 21.0) if fast else rng.uniform(22.0, 23.5)), after)
    battery = vehicle.model.battery_kwh
    target = rng.uniform(80, 95)
    seconds = (target - soc) / 100 * battery / power_kw * 3600
    count = max(int(seconds // step), 2)
    samples = []
    for index in range(count + 1):
        charging = index < count
        signals = {
            "Vehicle.Speed": 0.0,
            "Vehicle.TraveledDistance": round(odometer_km * 1000, 1),
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": round(
                soc + (target - soc) * index / count, 2
            ),
            "Vehicle.Powertrain.TractionBattery.Charging.IsCharging": charging,
            "Vehicle.Powertrain.TractionBattery.CurrentPower": power_kw * 1000 if charging else 0.0,
            "Vehicle.Powertrain.Transmission.SelectedGear": PARK_GEAR,
            **_location(vehicle, 0.0, 0),
        }
        samples.append(_sample(vehicle, start + timedelta(seconds=index * step), signals))
    return samples


def _sample(vehicle: Vehicle, moment: datetime, signals: dict) -> dict:
    return {"vin": vehicle.vin, "ts": moment.isoformat(), "signals": signals}


def vehicle_window(
    vehicle: Vehicle, days: list[date], *, seed: int, sample_seconds: int, faults: list[Fault]
) -> Iterator[dict]:
    """The vehicle's samples over the days, oldest first."""
    for day in days:
        yield from day_samples(
            vehicle, day, seed=seed, sample_seconds=sample_seconds, faults=faults
        )
