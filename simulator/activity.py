"""What owners do besides driving: orders at every status, community posts and reviews in
Chinese and English (complaints among them), leads and test drives."""

import random
from datetime import UTC, date, datetime, time, timedelta

from simulator import catalogue as c
from simulator.records import Lead, Order, Owner, Post, sim_id

OPEN_ORDER_STATUSES = ("ordered", "in_production", "in_transit", "ready_for_delivery", "cancelled")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local (China Standard Time) moment on `day`, in UTC."""
    return datetime.combine(day, time(hour, minute), UTC) - timedelta(hours=8)


def orders(rng: random.Random, seed: int, owners: list[Owner], until: date) -> list[Order]:
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


def posts(rng: random.Random, seed: int, owners: list[Owner], until: date, days: int):
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


def leads(rng: random.Random, owners: list[Owner], until: date) -> list[Lead]:
    """Test drives and leads: every prospect, and a few owners eyeing a second car."""
    leads = []
    for owner in owners:
        if not owner.prospect and rng.random() >= 0.03:
            continue
        kind = ("test_drive", "lead", "test_drive")[len(leads) % 3]  # each kind, even when few
        slot = _at(until + timedelta(days=rng.randint(1, 14)), 10) if kind == "test_drive" else None
        leads.append(Lead(owner, kind, rng.choice(c.MODELS).name, slot))
    return leads
