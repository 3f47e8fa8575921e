"""Dealers, owners and their cars, and the cars' service history: drawn from the seeded
generator in a fixed order, so the same seed and sizes give the same fleet."""

import math
import random
from datetime import date, timedelta

from simulator import catalogue as c
from simulator.records import Dealer, Fault, Owner, Vehicle, Visit, sim_id

PROSPECT_EVERY = 16  # one owner in 16 has no car yet
SECOND_CAR_SHARE = 0.05
ENGLISH_SHARE = 0.25
# Field hazards of the cooling-fan controller per km: every batch, and the faulty batch past
# its threshold (high enough that a few weeks of telemetry show it).
BASE_FAN_HAZARD = 0.1 / 10_000
FAULTY_FAN_HAZARD = 1.0 / 10_000
FAULTY_FROM_KM = 20_000.0
MAINTENANCE_PART = ("cabin_air_filter", "CAF-100", "CA-2026-01")


def make_dealer(index: int) -> Dealer:
    city = c.CITIES[index]
    return Dealer(index, f"SIM-{city.code}-01", f"{city.name_zh}蔚来中心 {city.name} Centre", city)


def make_owner(rng: random.Random, seed: int, index: int, dealers: list[Dealer]) -> Owner:
    dealer = dealers[index % len(dealers)]
    english = rng.random() < ENGLISH_SHARE
    if english:
        first, last = rng.choice(c.ENGLISH_FIRST_NAMES), rng.choice(c.ENGLISH_LAST_NAMES)
        full_name, handle = f"{first} {last}", f"{first}.{last}"
    else:
        (surname, surname_py), (given, given_py) = (
            rng.choice(c.SURNAMES),
            rng.choice(c.GIVEN_NAMES),
        )
        full_name, handle = surname + given, f"{given_py}.{surname_py}"
    tech = rng.random() < 0.25
    return Owner(
        index=index,
        external_id=sim_id(seed, "C", index),
        dealer=dealer,
        full_name=full_name,
        email=f"{handle.lower()}.{seed}.{index}@owners.example.cn",
        phone=f"+86 1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
        language="en" if english else "zh",
        prospect=index % PROSPECT_EVERY == 3,
        tech=tech,
        family=rng.random() < 0.3,
        aggressive=rng.random() < 0.12,
        super_user=tech and rng.random() < 0.12,
        satisfaction=rng.betavariate(5, 2),
        marketing_consent=rng.random() < 0.7,
        location_consent=rng.random() < 0.8,
    )


def make_vehicle(rng: random.Random, seed: int, owner: Owner, number: int, until: date) -> Vehicle:
    model = rng.choices(c.MODELS, weights=[m.share for m in c.MODELS])[0]
    delivery = until - timedelta(days=rng.randint(20, 3 * 365))
    batches = {name: rng.choice(batches) for name, (_, batches) in c.COMPONENTS.items()}
    km_per_day = round(min(max(rng.lognormvariate(math.log(42), 0.45), 8.0), 180.0), 1)
    vehicle = Vehicle(
        vin=make_vin(seed, owner.index, number, model.code, delivery.year),
        model=model,
        trim=rng.choice(model.trims),
        owner=owner,
        production_date=delivery - timedelta(days=rng.randint(15, 60)),
        delivery_date=delivery,
        batches=batches,
        km_per_day=km_per_day,
        fan_failure_km=_fan_failure_km(rng, batches[c.COOLING_FAN] == c.FAULTY_BATCH),
        key_trouble=batches[c.SMART_KEY] == "SK-2025-02" and rng.random() < 0.35,
    )
    owner.vehicles.append(vehicle)
    return vehicle


def _fan_failure_km(rng: random.Random, faulty: bool) -> float:
    """Constant hazard, raised past the threshold for the faulty batch (memoryless draws)."""
    failure = rng.expovariate(BASE_FAN_HAZARD)
    if faulty and failure > FAULTY_FROM_KM:
        failure = FAULTY_FROM_KM + rng.expovariate(FAULTY_FAN_HAZARD)
    return failure


_VIN_VALUES = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEARS = {2023: "P", 2024: "R", 2025: "S", 2026: "T", 2027: "V"}
_VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def make_vin(seed: int, owner_index: int, number: int, model_code: str, year: int) -> str:
    """ISO 3779: a made-up maker code, the model, a check digit, year, plant and serial; the
    seed goes into the plant and serial so that fleets of different seeds never collide."""
    serial = owner_index * 2 + number
    plant = _VIN_ALPHABET[seed % len(_VIN_ALPHABET)]
    batch = _VIN_ALPHABET[(seed // len(_VIN_ALPHABET)) % len(_VIN_ALPHABET)]
    body = f"LSM{model_code}A{batch}B0{_VIN_YEARS.get(year, 'T')}{plant}{serial:06d}"
    total = sum(_VIN_VALUES[char] * weight for char, weight in zip(body, _VIN_WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    return body[:8] + check + body[9:]


def service_history(
    rng: random.Random, seed: int, vehicles: list[Vehicle], until: date
) -> tuple[list[Visit], list[Fault]]:
    visits: list[Visit] = []
    faults: list[Fault] = []
    for vehicle in vehicles:
        visits += _maintenance(rng, seed, vehicle, until)
        fan = _fan_repair(rng, seed, vehicle, until)
        if fan:
            fault, visit = fan
            faults.append(fault)
            visits += [visit] if visit else []
        if vehicle.key_trouble and rng.random() < 0.5:
            day = until - timedelta(days=rng.randint(1, 120))
            if day > vehicle.delivery_date:
                part = (c.SMART_KEY, c.COMPONENTS[c.SMART_KEY][0], c.REPLACEMENT_BATCH[c.SMART_KEY])
                visits.append(_visit(seed, vehicle, "repair", day, (part,), "0.00", "key"))
    return visits, faults


def _maintenance(rng: random.Random, seed: int, vehicle: Vehicle, until: date) -> list[Visit]:
    """A yearly service (with a new cabin filter) and an inspection a few weeks after delivery."""
    visits = []
    inspection = vehicle.delivery_date + timedelta(days=rng.randint(10, 40))
    if inspection < until:
        visits.append(_visit(seed, vehicle, "inspection", inspection, (), "0.00", "insp"))
    year = 1
    while (
        day := vehicle.delivery_date + timedelta(days=365 * year + rng.randint(-20, 20))
    ) < until:
        cost = f"{rng.randint(400, 1200)}.00"
        visits.append(_visit(seed, vehicle, "maintenance", day, (MAINTENANCE_PART,), cost, year))
        year += 1
    return visits


def _fan_repair(
    rng: random.Random, seed: int, vehicle: Vehicle, until: date
) -> tuple[Fault, Visit | None] | None:
    """The original fan controller fails at its drawn mileage: a fault code from that day, and
    a warranty visit replacing it a few days later (unless that is still ahead)."""
    assert vehicle.fan_failure_km is not None
    raised = vehicle.day_reaching(vehicle.fan_failure_km)
    if raised >= until:
        return None
    repaired = raised + timedelta(days=rng.randint(1, 4))
    if repaired >= until:
        return Fault(vehicle, c.FAN_FAULT_CODE, raised, None), None
    part = (c.COOLING_FAN, c.COMPONENTS[c.COOLING_FAN][0], c.REPLACEMENT_BATCH[c.COOLING_FAN])
    visit = _visit(seed, vehicle, "warranty", repaired, (part,), "0.00", "fan")
    return Fault(vehicle, c.FAN_FAULT_CODE, raised, repaired), visit


def _visit(seed, vehicle, visit_type, day, parts, cost, tag) -> Visit:
    return Visit(
        external_id=sim_id(seed, "V", vehicle.vin, tag),
        vehicle=vehicle,
        visit_type=visit_type,
        visit_date=day,
        mileage_km=int(vehicle.mileage_on(day)),
        parts=parts,
        cost=cost,
    )
