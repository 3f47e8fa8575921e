"""The simulated fleet as plain records, drawn from the seed alone: the same seed and sizes
give the same dealers, owners, vehicles, orders, visits, posts and leads, with the same
external ids, so a re-run upserts what a first run created.

Time is anchored at `until` (a date): a vehicle's mileage on a day is a function of that day,
so a later run only adds the newer days, as a real fleet would.
"""

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from simulator import catalogue as c

NAMESPACE = uuid.UUID("6f1c9a52-3f0e-4d0b-9a59-5e1f0c0de000")
PROSPECT_EVERY = 16  # one owner in 16 has no car yet
SECOND_CAR_SHARE = 0.05
ENGLISH_SHARE = 0.25
# Field hazards of the cooling-fan controller per km: every batch, and the faulty batch past
# its threshold (high enough that a few weeks of telemetry show it).
BASE_FAN_HAZARD = 0.1 / 10_000
FAULTY_FAN_HAZARD = 1.0 / 10_000
FAULTY_FROM_KM = 20_000.0
MAINTENANCE_PART = ("cabin_air_filter", "CAF-100", "CA-2026-01")
OPEN_ORDER_STATUSES = ("ordered", "in_production", "in_transit", "ready_for_delivery", "cancelled")


@dataclass(frozen=True)
class Dealer:
    index: int
    code: str
    name: str
    city: c.City


@dataclass
class Owner:
    index: int
    external_id: str
    dealer: Dealer
    full_name: str
    email: str
    phone: str
    language: str
    prospect: bool
    tech: bool  # uses assisted driving and new in-car apps
    family: bool  # drives to schools and supermarkets
    aggressive: bool  # harsh accelerations and brakings
    super_user: bool  # posts often and draws engagement
    satisfaction: float  # 0..1: how they score surveys
    marketing_consent: bool
    location_consent: bool
    vehicles: list["Vehicle"] = field(default_factory=list)


@dataclass
class Vehicle:
    vin: str
    model: c.Model
    trim: str
    owner: Owner
    production_date: date
    delivery_date: date
    batches: dict[str, str]
    km_per_day: float
    fan_failure_km: float | None  # where the original cooling-fan controller fails
    key_trouble: bool  # the smart key keeps failing

    def mileage_on(self, day: date) -> float:
        return max((day - self.delivery_date).days, 0) * self.km_per_day

    def day_reaching(self, km: float) -> date:
        return self.delivery_date + timedelta(days=math.ceil(km / self.km_per_day))


@dataclass(frozen=True)
class Order:
    external_id: str
    owner: Owner
    model: str
    vin: str | None
    status: str
    status_changed_at: datetime


@dataclass(frozen=True)
class Visit:
    external_id: str
    vehicle: Vehicle
    visit_type: str
    visit_date: date
    mileage_km: int
    parts: tuple[tuple[str, str, str], ...]  # (component, part number, batch)
    cost: str


@dataclass(frozen=True)
class Fault:
    """A fault code the vehicle reports from `raised` until the part is replaced (or on)."""

    vehicle: Vehicle
    code: str
    raised: date
    repaired: date | None


@dataclass(frozen=True)
class Post:
    source: str
    source_id: str
    owner: Owner
    vin: str | None
    text: c.Text
    rating: int | None
    likes: int
    comments: int
    shares: int
    published_at: datetime


@dataclass(frozen=True)
class Lead:
    owner: Owner
    kind: str  # lead | test_drive
    model: str
    requested_slot: datetime | None


@dataclass
class World:
    seed: int
    until: date
    days: int
    dealers: list[Dealer]
    owners: list[Owner]
    vehicles: list[Vehicle]
    orders: list[Order]
    visits: list[Visit]
    faults: list[Fault]
    posts: list[Post]
    leads: list[Lead]

    @property
    def first_day(self) -> date:
        return self.until - timedelta(days=self.days)


def build_world(*, seed: int, owners: int, dealers: int, days: int, until: date) -> World:
    rng = random.Random(seed)
    dealer_list = [_dealer(index) for index in range(min(dealers, len(c.CITIES)))]
    owner_list = [_owner(rng, seed, index, dealer_list) for index in range(owners)]
    vehicles = [
        _vehicle(rng, seed, owner, number, until)
        for owner in owner_list
        if not owner.prospect
        for number in range(2 if rng.random() < SECOND_CAR_SHARE else 1)
    ]
    visits, faults = _service_history(rng, seed, vehicles, until)
    return World(
        seed=seed,
        until=until,
        days=days,
        dealers=dealer_list,
        owners=owner_list,
        vehicles=vehicles,
        orders=_orders(rng, seed, owner_list, until),
        visits=visits,
        faults=faults,
        posts=_posts(rng, seed, owner_list, until, days),
        leads=_leads(rng, owner_list, until),
    )


def sim_id(seed: int, kind: str, *parts: object) -> str:
    """A short external id, stable for a seed, that no other seed produces."""
    name = ":".join(str(part) for part in (seed, kind, *parts))
    return f"SIM{seed}-{kind}-{uuid.uuid5(NAMESPACE, name).hex[:12].upper()}"


def _dealer(index: int) -> Dealer:
    city = c.CITIES[index]
    return Dealer(index, f"SIM-{city.code}-01", f"{city.name_zh}蔚来中心 {city.name} Centre", city)


def _owner(rng: random.Random, seed: int, index: int, dealers: list[Dealer]) -> Owner:
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


def _vehicle(rng: random.Random, seed: int, owner: Owner, number: int, until: date) -> Vehicle:
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


def _service_history(
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


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local (China Standard Time) moment on `day`, in UTC."""
    return datetime.combine(day, time(hour, minute), UTC) - timedelta(hours=8)


def _orders(rng: random.Random, seed: int, owners: list[Owner], until: date) -> list[Order]:
    """A delivered order for every vehicle; open orders at every other status; a lead order
    for each prospect."""
    orders = [
        Order(
            external_id=sim_id(seed, "O", vehicle.vin),
            owner=owner,
            model=vehicle.model.name,
            vin=vehicle.vin,
            status="delivered",
            status_changed_at=_at(vehicle.delivery_date, 10),
        )
        for owner in owners
        for vehicle in owner.vehicles
    ]
    # Every twelfth owner has a second order under way; the statuses take turns, so that even
    # a small fleet has orders at every status.
    open_orders = 0
    for owner in owners:
        if owner.prospect or owner.index % 12 == 5:
            status = "lead" if owner.prospect else OPEN_ORDER_STATUSES[open_orders % 5]
            open_orders += not owner.prospect
            orders.append(
                Order(
                    external_id=sim_id(seed, "O", owner.index, "open"),
                    owner=owner,
                    model=rng.choice(c.MODELS).name,
                    vin=None,
                    status=status,
                    status_changed_at=_at(until - timedelta(days=rng.randint(1, 60)), 11),
                )
            )
    return orders


def _posts(rng: random.Random, seed: int, owners: list[Owner], until: date, days: int):
    posts: list[Post] = []
    for owner in owners:
        for number, (source, text, rating) in enumerate(_writings(rng, owner)):
            engaged = owner.super_user or rng.random() < 0.2
            scale = 40 if owner.super_user else 6
            posts.append(
                Post(
                    source=source,
                    source_id=sim_id(seed, "P", owner.index, number),
                    owner=owner,
                    vin=owner.vehicles[0].vin if owner.vehicles else None,
                    text=text,
                    rating=rating,
                    likes=rng.randint(5, scale * 5) if engaged else rng.randint(0, 3),
                    comments=rng.randint(1, scale) if engaged else 0,
                    shares=rng.randint(0, scale // 2) if engaged else 0,
                    published_at=_at(until - timedelta(days=rng.randint(1, days)), 20, number),
                )
            )
    return posts


def _writings(rng: random.Random, owner: Owner) -> list[tuple[str, c.Text, int | None]]:
    """What an owner writes: complaints about a failing key, praise, app-store reviews."""

    def pick(texts):
        mine = [t for t in texts if t.language == owner.language] or list(texts)
        return rng.choice(mine)

    writings: list[tuple[str, c.Text, int | None]] = []
    if any(vehicle.key_trouble for vehicle in owner.vehicles):
        writings.append(("community", pick(c.SMART_KEY_COMPLAINTS), None))
    if owner.super_user:
        writings += [("community", pick(c.PRAISE), None) for _ in range(rng.randint(4, 8))]
    elif rng.random() < 0.08:
        complaint = owner.satisfaction < 0.45
        writings.append(("community", pick(c.CHARGING_COMPLAINTS if complaint else c.PRAISE), None))
    if owner.vehicles and rng.random() < 0.04:
        rating = max(1, min(5, round(owner.satisfaction * 5 + 0.3)))
        writings.append((rng.choice(("app_store", "auto_media")), pick(c.REVIEWS), rating))
    return writings


def _leads(rng: random.Random, owners: list[Owner], until: date) -> list[Lead]:
    """Test drives and leads: every prospect, and a few owners eyeing a second car."""
    leads = []
    for owner in owners:
        if not owner.prospect and rng.random() >= 0.03:
            continue
        kind = ("test_drive", "lead", "test_drive")[len(leads) % 3]  # each kind, even when few
        slot = _at(until + timedelta(days=rng.randint(1, 14)), 10) if kind == "test_drive" else None
        leads.append(Lead(owner, kind, rng.choice(c.MODELS).name, slot))
    return leads
