"""Row-level security: what the policies and the per-transaction scope cost a dealer's reads.

Starts an embedded PostgreSQL, migrates profile's database and fills it with `--dealers`
dealers, each with `--orders` owners and an order per owner. Then, in the same run, times the
reads a dealer's key makes most, each in a transaction of its own, through profile's own
repository (so the application's scoping applies too), three ways, taking turns read by read:

- `rls`: as the application role, the transaction's scope set (what the services do);
- `owner`: as the tables' owner (a superuser: the policies do not bind it), scope still set;
  against `rls`, the cost of the policies;
- `bare`: as the owner, no scope statement: the platform before row-level security.

The reads: a page of 50 of the dealer's orders with their total (`GET /v1/profile/orders`),
an order by id, an owner by id (through the dealer links); and staff's count of every order by
dealer (the every-dealer scope: the policy's filter runs on every row). Prints the median per
read and the ratios to `bare`; asserts nothing about time.

    python -m bench.row_security [--dealers 200] [--orders 500] [--reads 400] [--rounds 3]
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench import summary
from cli.embedded import EmbeddedPostgres
from services.profile.config import MIGRATIONS_DIR, ProfileSettings
from services.profile.models import Order
from services.profile.repository import ProfileRepository
from shared.auth import Caller, CallerKind
from shared.config import Environment
from shared.database import Database, application_url, service_url
from shared.migrations import upgrade
from shared.pagination import PageParams
from shared.scoping import EVERY_DEALER, RowScope

WAYS = ("rls", "owner", "bare")
STAFF_SCAN = "staff: orders by dealer"  # every order counted, every dealer's scope
PAGE = PageParams(limit=50)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def main() -> None:
    arguments = _arguments()
    with tempfile.TemporaryDirectory(prefix="cem-bench-rls-") as folder:
        with EmbeddedPostgres(Path(folder) / "postgres", durable=False) as postgres:
            settings = ProfileSettings(
                environment=Environment.LOCAL,
                database_url=postgres.url,
                database_prefix=f"cembench_{uuid.uuid4().hex[:8]}",
            )
            upgrade("profile", MIGRATIONS_DIR, settings)
            asyncio.run(_bench(settings, arguments))
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dealers", type=int, default=200)
    parser.add_argument("--orders", type=int, default=500, help="owners and orders per dealer")
    parser.add_argument("--reads", type=int, default=400, help="reads of each kind per round")
    parser.add_argument("--rounds", type=int, default=3)
    summary.add_option(parser)
    return parser.parse_args()


async def _bench(settings: ProfileSettings, arguments: argparse.Namespace) -> None:
    started = time.perf_counter()
    dealers = await _seed(service_url(settings, "profile"), arguments.dealers, arguments.orders)
    rows = arguments.dealers * arguments.orders
    print(f"seeded {arguments.dealers} dealers, {rows:,} owners and orders "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    databases = {
        "rls": Database(application_url(settings, "profile"), pool_size=1),
        "owner": Database(service_url(settings, "profile"), pool_size=1),
    }
    bare = async_sessionmaker(databases["owner"].engine, expire_on_commit=False)
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for round_number in range(arguments.rounds):
            chance = random.Random(round_number)
            for read, runs in _reads(chance, dealers, arguments.reads).items():
                for way, seconds in (await _time(databases, bare, runs)).items():
                    times.setdefault((read, way), []).append(seconds)
    finally:
        await databases["rls"].dispose()
        await databases["owner"].dispose()
    _report(times, rows)


def _reads(chance: random.Random, dealers: list, count: int) -> dict[str, list]:
    """The same reads for every way: (scope, read) pairs, of randomly chosen dealers; and
    staff's every-dealer scan (fewer: each reads every order)."""
    picks = [chance.choice(dealers) for _ in range(count)]

    def caller(dealer_id: uuid.UUID) -> Caller:
        return Caller(kind=CallerKind.DEALER, subject=str(dealer_id), dealer_id=dealer_id)

    def by_dealer(repository: ProfileRepository):
        counted = select(Order.dealer_id, func.count()).group_by(Order.dealer_id)
        return repository.session.execute(counted)

    return {
        "dealer: orders page": [
            (RowScope(frozenset({d})),
             lambda r, c=caller(d): r.list_orders(c, PAGE, status=None, owner_id=None))
            for d, _ in picks
        ],
        "dealer: order by id": [
            (RowScope(frozenset({d})),
             lambda r, c=caller(d), o=chance.choice(orders): r.get_order(c, o[1]))
            for d, orders in picks
        ],
        "dealer: owner by id": [
            (RowScope(frozenset({d})),
             lambda r, c=caller(d), o=chance.choice(orders): r.get_owner(c, o[0]))
            for d, orders in picks
        ],
        STAFF_SCAN: [(EVERY_DEALER, by_dealer)] * max(count // 10, 3),
    }  # fmt: skip


async def _time(databases: dict[str, Database], bare, runs: list) -> dict[str, float]:
    """The median seconds of one read in its own transaction (BEGIN to COMMIT), each way.
    The ways take turns read by read, so a busy moment of the machine falls on all three."""
    durations: dict[str, list[float]] = {way: [] for way in WAYS}
    for number, (scope, read) in enumerate(runs):
        for way in WAYS[number % 3 :] + WAYS[: number % 3]:
            started = time.perf_counter()
            if way == "bare":
                async with bare() as session, session.begin():
                    await read(ProfileRepository(session))
            else:
                async with databases[way].transaction(scope) as session:
                    await read(ProfileRepository(session))
            durations[way].append(time.perf_counter() - started)
    return {way: statistics.median(values) for way, values in durations.items()}


def _report(times: dict[tuple[str, str], list[float]], rows: int) -> None:
    print(f"{'read':<24} {'rls ms':>8} {'owner ms':>9} {'bare ms':>8} {'rls/bare':>9} "
          f"{'owner/bare':>11}")  # fmt: skip
    figures = {}
    for read in ("dealer: orders page", "dealer: order by id", "dealer: owner by id", STAFF_SCAN):
        rls, owner, bare = (statistics.median(times[(read, way)]) for way in WAYS)
        print(f"{read:<24} {rls * 1e3:>8.3f} {owner * 1e3:>9.3f} {bare * 1e3:>8.3f} "
              f"{rls / bare:>8.2f}x {owner / bare:>10.2f}x")  # fmt: skip
        figures[read] = {"rls": rls, "owner": owner, "bare": bare}
    summary.record(rows=rows, reads=figures)


async def _seed(url, dealer_count: int, per_dealer: int) -> list[tuple[uuid.UUID, list]]:
    """Dealers, each with owners linked to it and an order per owner, by COPY as the owner.
    Returns each dealer with its (owner, order) ids."""
    dealers, links, owners, orders, seeded = [], [], [], [], []
    for number in range(dealer_count):
        dealer_id = uuid.uuid4()
        dealers.append((dealer_id, f"B{number:05d}", f"Dealer {number}", "Shanghai", "East", NOW))
        mine = [(uuid.uuid4(), uuid.uuid4()) for _ in range(per_dealer)]
        for owner_id, order_id in mine:
            owners.append((owner_id, "sealed", "en", NOW))
            links.append((owner_id, dealer_id, "sold"))
            orders.append((order_id, dealer_id, owner_id, "Model E", "delivered", NOW, NOW))
        seeded.append((dealer_id, mine))
    tables = {
        "dealers": (dealers, ["id", "code", "name", "city", "region", "created_at"]),
        "owners": (owners, ["id", "full_name", "preferred_language", "created_at"]),
        "owner_dealers": (links, ["owner_id", "dealer_id", "relation"]),
        "orders": (orders, ["id", "dealer_id", "owner_id", "model", "status",
                            "status_changed_at", "created_at"]),
    }  # fmt: skip
    connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        for table, (records, columns) in tables.items():
            await connection.copy_records_to_table(table, records=records, columns=columns)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return seeded
