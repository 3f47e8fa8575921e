"""The simulated fleet as plain records, drawn from the seed alone: the same seed and sizes
give the same dealers, owners, vehicles, orders, visits, posts and leads, with the same
external ids, so a re-run upserts what a first run created.

Time is anchored at `until` (a date): a vehicle's mileage on a day is a function of that day,
so a later run only adds the newer days, as a real fleet would.
"""

import random
from datetime import date

from simulator import catalogue as c
from simulator.activity import leads, orders, posts
from simulator.fleet import (
    SECOND_CAR_SHARE,
    make_dealer,
    make_owner,
    make_vehicle,
    make_vin,
    service_history,
)
from simulator.records import (
    Dealer,
    Fault,
    Lead,
    Order,
    Owner,
    Post,
    Vehicle,
    Visit,
    World,
    sim_id,
)

__all__ = [
    "Dealer", "Fault", "Lead", "Order", "Owner", "Post", "Vehicle", "Visit", "World",
    "build_world", "make_vin", "sim_id",
]  # fmt: skip


def build_world(*, seed: int, owners: int, dealers: int, days: int, until: date) -> World:
    rng = random.Random(seed)
    dealer_list = [make_dealer(index) for index in range(min(dealers, len(c.CITIES)))]
    owner_list = [make_owner(rng, seed, index, dealer_list) for index in range(owners)]
    vehicles = [
        make_vehicle(rng, seed, owner, number, until)
        for owner in owner_list
        if not owner.prospect
        for number in range(2 if rng.random() < SECOND_CAR_SHARE else 1)
    ]
    visits, faults = service_history(rng, seed, vehicles, until)
    return World(
        seed=seed,
        until=until,
        days=days,
        dealers=dealer_list,
        owners=owner_list,
        vehicles=vehicles,
        orders=orders(rng, seed, owner_list, until),
        visits=visits,
        faults=faults,
        posts=posts(rng, seed, owner_list, until, days),
        leads=leads(rng, owner_list, until),
    )
