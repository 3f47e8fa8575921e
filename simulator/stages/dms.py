"""What dealers' DMS and owners' apps send: the idempotent DMS import (owners with the consents
they signed at the dealership, vehicles with their component batches, orders at every status,
service visits with parts), then the app's interaction events."""

import random
from collections import defaultdict
from datetime import timedelta

from simulator import catalogue as c
from simulator.context import Run, chunks, run_all
from simulator.world import Order, Owner, Vehicle, Visit, World, sim_id

# A DMS import is one transaction, and profile takes one import per dealer at a time: dealers
# import side by side, each its own batches in turn, small enough to answer well within the
# gateway's 30 s timeout (a resent batch would only queue behind the first). Profile's import
# is set-based (a few dozen statements a batch): 50 owners' batches took 14 s at the median
# on a two-core machine at load 25. Two dealers at a time keep profile and PostgreSQL busy;
# more only lengthen each batch.
OWNERS_PER_IMPORT = 50
DEALERS_IMPORTING = 2
EVENTS_PER_BATCH = 500
NOTICE_VERSION = "2026-01"


def import_batches(
    world: World, *, owners_per_batch: int = OWNERS_PER_IMPORT
) -> dict[int, list[dict]]:
    """Each dealer's DMS batches: its owners in slices, with everything of theirs. Prospects
    come with their lead orders only."""
    orders: dict[int, list[Order]] = defaultdict(list)
    for order in world.orders:
        orders[order.owner.index].append(order)
    visits: dict[str, list[Visit]] = defaultdict(list)
    for visit in world.visits:
        visits[visit.vehicle.vin].append(visit)
    by_dealer: dict[int, list[Owner]] = defaultdict(list)
    for owner in world.owners:
        by_dealer[owner.dealer.index].append(owner)
    return {
        dealer: [_batch(owners, orders, visits) for owners in chunks(everyone, owners_per_batch)]
        for dealer, everyone in sorted(by_dealer.items())
    }


def _batch(owners: list[Owner], orders, visits) -> dict:
    vehicles = [vehicle for owner in owners for vehicle in owner.vehicles]
    return {
        "owners": [_owner(owner) for owner in owners],
        "vehicles": [_vehicle(vehicle) for vehicle in vehicles],
        "orders": [_order(order) for owner in owners for order in orders[owner.index]],
        "service_visits": [
            _visit(visit) for vehicle in vehicles for visit in sorted(
                visits[vehicle.vin], key=lambda visit: visit.visit_date
            )
        ],
        "consents": [
            {"owner_external_id": owner.external_id, **answer}
            for owner in owners for answer in _consents(owner)
        ],
    }  # fmt: skip


def _owner(owner: Owner) -> dict:
    return {
        "external_id": owner.external_id,
        "full_name": owner.full_name,
        "email": owner.email,
        "phone": owner.phone,
        "city": owner.dealer.city.name,
        "preferred_language": owner.language,
    }


def _vehicle(vehicle: Vehicle) -> dict:
    return {
        "vin": vehicle.vin,
        "model": vehicle.model.name,
        "trim": vehicle.trim,
        "production_date": vehicle.production_date.isoformat(),
        "delivery_date": vehicle.delivery_date.isoformat(),
        "owner_external_id": vehicle.owner.external_id,
        "components": [
            {"component": name, "part_number": c.COMPONENTS[name][0], "batch_code": batch}
            for name, batch in vehicle.batches.items()
        ],
    }


def _order(order: Order) -> dict:
    return {
        "external_id": order.external_id,
        "owner_external_id": order.owner.external_id,
        "model": order.model,
        "vin": order.vin,
        "status": order.status,
        "status_changed_at": order.status_changed_at.isoformat(),
    }


def _visit(visit: Visit) -> dict:
    return {
        "external_id": visit.external_id,
        "vin": visit.vehicle.vin,
        "owner_external_id": visit.vehicle.owner.external_id,
        "visit_type": visit.visit_type,
        "visit_date": visit.visit_date.isoformat(),
        "mileage_km": visit.mileage_km,
        "parts": [
            {"component": component, "part_number": number, "batch_code": batch}
            for component, number, batch in visit.parts
        ],
        "cost": visit.cost,
    }


async def import_fleet(run: Run) -> None:
    batches = import_batches(run.world)
    task = run.stage(
        "DMS import (owners, vehicles, orders, visits)", total=sum(map(len, batches.values()))
    )

    async def send(dealer: int) -> None:
        headers = run.credentials.dealer(run.dealer_ids[dealer])
        for batch in batches[dealer]:
            result = (await run.gateway.post("/v1/profile/imports", batch, headers=headers)).json()
            for kind, counts in result.items():
                run.tally.add(f"imported {kind.replace('_', ' ')}", **counts)
            run.progress.advance(task)

    await run_all(list(batches), send, workers=DEALERS_IMPORTING)


async def learn_owner_ids(run: Run) -> None:
    """The platform's ids of the owners, from each dealer's own owner list (matched by e-mail)."""
    by_email = {owner.email: owner.index for owner in run.world.owners}
    task = run.stage("Owner ids from the dealers' lists", total=len(run.world.dealers))

    async def learn(dealer_index: int) -> None:
        headers = run.credentials.dealer(run.dealer_ids[dealer_index])
        async for owner in run.gateway.items("/v1/profile/owners", headers=headers):
            if (index := by_email.get(owner.get("email") or "")) is not None:
                run.owner_ids[index] = owner["id"]
        run.progress.advance(task)

    await run_all(list(run.dealer_ids), learn, workers=8)
    missing = len(run.world.owners) - len(run.owner_ids)
    if missing:
        run.tally.notes.append(f"{missing} owners were not found in their dealer's list")


def _consents(owner: Owner) -> list[dict]:
    """What the owner signed at the dealership: service messages on, marketing as they chose;
    location only when granted (off by default: sensitive personal information under PIPL).
    The DMS sends them with the owner, one statement for a whole batch's answers, where the
    app would send one request an answer."""
    common = {"notice_version": NOTICE_VERSION, "source": "dms"}
    answers = [
        {"purpose": "service_messages", "channel": "app_push", "granted": True, **common},
        {"purpose": "marketing", "channel": "app_push", "granted": owner.marketing_consent,
         **common},
    ]  # fmt: skip
    if owner.location_consent:
        answers.append({"purpose": "location", "channel": "any", "granted": True, **common})
    return answers


def interaction_events(run: Run) -> list[tuple[int, dict]]:
    """(dealer index, event) pairs: app opens, feature use (assisted driving and new apps for
    tech enthusiasts), community posting and engagement, test-drive requests."""
    world = run.world
    posts_by_owner = defaultdict(list)
    for post in world.posts:
        posts_by_owner[post.owner.index].append(post)
    test_drives = {lead.owner.index: lead for lead in world.leads if lead.kind == "test_drive"}
    events = []
    for owner in world.owners:
        if owner.index not in run.owner_ids:
            continue
        rng = random.Random(f"{world.seed}:events:{owner.index}")
        kinds = [("app_opened", {"screen": "home"})] * rng.randint(2, 8)
        if owner.tech:
            kinds += [("feature_used", {"feature": "assisted_driving"})] * rng.randint(3, 8)
            kinds += [("feature_used", {"feature": app}) for app in c.TECH_APPS[:3]]
        for post in posts_by_owner[owner.index]:
            if post.source == "community":
                kinds.append(("community_post_created", {"post_id": post.source_id}))
                kinds += [
                    ("community_post_engaged", {"post_id": post.source_id, "engagement": "like"})
                ] * min(post.likes, 10)
        if lead := test_drives.get(owner.index):
            kinds.append(("test_drive_requested", {"model": lead.model}))
        for number, (kind, properties) in enumerate(kinds):
            day = world.until - timedelta(days=rng.randint(1, world.days))
            event = {
                "id": sim_id(world.seed, "E", owner.index, number),
                "type": kind,
                "owner_id": run.owner_ids[owner.index],
                "occurred_at": f"{day.isoformat()}T{rng.randint(0, 23):02d}:00:00+08:00",
                "source": "app",
                "properties": properties,
            }
            events.append((owner.dealer.index, event))
    return events


async def record_interactions(run: Run) -> None:
    stage = "App interaction events"
    if not await run.offers(stage, "POST /v1/profile/events"):
        return
    by_dealer = defaultdict(list)
    for dealer, event in interaction_events(run):
        by_dealer[dealer].append(event)
    batches = [
        (dealer, batch) for dealer, events in by_dealer.items()
        for batch in chunks(events, EVENTS_PER_BATCH)
    ]  # fmt: skip
    task = run.stage(stage, total=len(batches))

    async def send(item) -> None:
        dealer, batch = item
        headers = run.credentials.dealer(run.dealer_ids[dealer])
        result = await run.gateway.post(
            "/v1/profile/events", {"events": batch}, headers=headers, accept=(202,)
        )
        run.tally.add("interaction events", **result.json())
        run.progress.advance(task)

    await run_all(batches, send, workers=8)
