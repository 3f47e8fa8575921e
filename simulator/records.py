"""The simulated fleet's records: plain, frozen where they never change, and the World that
holds them. Ids come from the seed (`sim_id`), so a re-run upserts what a first run made."""

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from simulator import catalogue as c

NAMESPACE = uuid.UUID("6f1c9a52-3f0e-4d0b-9a59-5e1f0c0de000")


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


def sim_id(seed: int, kind: str, *parts: object) -> str:
    """A short external id, stable for a seed, that no other seed produces."""
    name = ":".join(str(part) for part in (seed, kind, *parts))
    return f"SIM{seed}-{kind}-{uuid.uuid5(NAMESPACE, name).hex[:12].upper()}"
