"""Profile: the DMS import's throughput in owners per second, against raw INSERTs of the rows
it wrote.

Starts an embedded PostgreSQL, migrates profile's database twice (one for the import, one
for the baseline), registers the simulator's dealers and builds its fleet (simulator/world.py:
owners in Chinese and English, vehicles with component batches, orders at every status,
service visits with parts), cut into the DMS batches `make demo` sends. Then, in one run:

- the import as the route runs it: each batch validated (`DmsImport`) and applied by
  `import_dms_batch` in a transaction of its own; owners per second, and the Python CPU
  milliseconds per owner in this process (PostgreSQL's work is in the wall time only);
- the same batches again: nothing changes, nothing is published (a re-run of `make demo`);
- the baseline: every row the import wrote (owners, keys, links, facts, vehicles, roles,
  orders, timelines, visits, lifecycle, memberships, outbox) inserted raw into the second
  database with asyncpg `executemany`, a transaction per batch's worth of owners.

Prints the figures and the ratio; asserts nothing about time.

    python -m bench.profile_import [--owners 3000] [--dealers 10] [--batch 100]
"""

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import asyncpg

from bench import summary
from cli.embedded import EmbeddedPostgres
from services.profile.config import MIGRATIONS_DIR, ProfileSettings
from services.profile.models import Dealer
from services.profile.schemas import DmsImport
from services.profile.service.imports import import_dms_batch
from services.profile.vault import Vault
from shared.auth import Caller, CallerKind
from shared.config import Environment
from shared.database import Database, service_url
from shared.migrations import upgrade
from simulator.stages.dms import import_batches
from simulator.world import build_world

UNTIL = date(2026, 11, 30)
# What the import writes, parents before children (the baseline inserts in this order).
TABLES = (
    "owners", "owner_keys", "owner_dealers", "owner_facts", "vehicles", "vehicle_dealers",
    "vehicle_roles", "orders", "order_status_entries", "service_visits", "lifecycle_history",
    "segment_memberships", "outbox",
)  # fmt: skip


def main() -> None:
    arguments = _arguments()
    with tempfile.TemporaryDirectory(prefix="cem-bench-import-") as folder:
        with EmbeddedPostgres(Path(folder) / "postgres", durable=False) as postgres:
            prefix = f"cembench_{uuid.uuid4().hex[:8]}"
            settings = [
                ProfileSettings(
                    environment=Environment.LOCAL,
                    database_url=postgres.url,
                    database_prefix=f"{prefix}_{role}",
                )
                for role in ("import", "raw")
            ]
            for each in settings:
                upgrade("profile", MIGRATIONS_DIR, each)
            asyncio.run(_bench(settings[0], *(service_url(s, "profile") for s in settings),
                               arguments))  # fmt: skip
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=3000)
    parser.add_argument("--dealers", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100, help="owners per DMS batch")
    summary.add_option(parser)
    return parser.parse_args()


async def _bench(settings: ProfileSettings, import_url, raw_url, arguments) -> None:
    world = build_world(seed=5, owners=arguments.owners, dealers=arguments.dealers, days=1,
                        until=UNTIL)  # fmt: skip
    batches = [
        (dealer, batch)
        for dealer, dealer_batches in import_batches(world, owners_per_batch=arguments.batch)
        .items()
        for batch in dealer_batches
    ]  # fmt: skip
    records = sum(len(rows) for _, batch in batches for rows in batch.values())
    print(f"{arguments.owners} owners, {records} records in {len(batches)} batches")
    database = Database(import_url)
    try:
        dealers = await _register_dealers(database, world.dealers)
        vault = Vault.from_secrets(
            settings.owner_master_key.get_secret_value(),
            settings.contact_hash_pepper.get_secret_value(),
        )
        first = await _import(database, vault, dealers, batches)
        again = await _import(database, vault, dealers, batches)
    finally:
        await database.dispose()
    raw = await _raw_inserts(import_url, raw_url)
    owners = arguments.owners
    figures = {
        "owners": owners,
        "batch": arguments.batch,
        "records": records,
        "import": {"seconds": first[0], "cpu_seconds": first[1]},
        "reimport": {"seconds": again[0], "cpu_seconds": again[1]},
        "raw_insert": {"seconds": raw},
    }
    summary.record(**figures)
    print(f"{'':<34}{'owners/s':>10}{'seconds':>10}{'CPU ms/owner':>14}")
    for name, (seconds, cpu) in (("import", first), ("re-import (nothing changes)", again)):
        print(f"{name:<34}{owners / seconds:>10.0f}{seconds:>10.1f}{cpu / owners * 1e3:>14.2f}")
    print(f"{'raw INSERT of the rows it wrote':<34}{owners / raw:>10.0f}{raw:>10.1f}")
    print(f"import / raw INSERT: {raw / first[0]:.2f}x the raw rate")


async def _register_dealers(database: Database, dealers) -> dict[int, uuid.UUID]:
    ids = {}
    async with database.transaction() as session:
        for dealer in dealers:
            row = Dealer(code=dealer.code, name=dealer.name, city=dealer.city.name,
                         region=dealer.city.region)  # fmt: skip
            session.add(row)
            ids[dealer.index] = row.id
    return ids


async def _import(database: Database, vault: Vault, dealers, batches) -> tuple[float, float]:
    """Every batch as the route applies it; (wall seconds, this process's CPU seconds)."""
    started, cpu = time.perf_counter(), time.process_time()
    for dealer, body in batches:
        caller = Caller(kind=CallerKind.DEALER, subject=str(dealers[dealer]),
                        dealer_id=dealers[dealer])  # fmt: skip
        async with database.transaction() as session:
            await import_dms_batch(
                session, caller=caller, vault=vault, batch=DmsImport.model_validate(body)
            )
    return time.perf_counter() - started, time.process_time() - cpu


def _dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _raw_inserts(import_url, raw_url) -> float:
    """Seconds to INSERT every row the import wrote into an empty database (the dealers are
    there already), table by table in dependency order, a transaction a table."""
    source = await asyncpg.connect(_dsn(import_url))
    target = await asyncpg.connect(_dsn(raw_url))
    try:
        await target.execute(
            "INSERT INTO dealers SELECT * FROM json_populate_recordset(NULL::dealers, $1)",
            await source.fetchval("SELECT json_agg(d) FROM dealers d"),
        )
        rows = {table: await source.fetch(f"SELECT * FROM {table}") for table in TABLES}
        started = time.perf_counter()
        for table, found in rows.items():
            if not found:
                continue
            columns = list(found[0].keys())
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) OVERRIDING SYSTEM VALUE VALUES "
                f"({', '.join(f'${n + 1}' for n in range(len(columns)))})"
            )
            async with target.transaction():
                await target.executemany(statement, [tuple(row.values()) for row in found])
        return time.perf_counter() - started
    finally:
        await source.close()
        await target.close()
