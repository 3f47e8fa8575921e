"""Journeys: an OTA release to 100,000 tech enthusiasts.

Starts an embedded PostgreSQL, migrates journeys' database and fills its projections with
`--owners` owners in the `tech_enthusiast` segment (with marketing consent on push). Then
measures, in the same run:

- the release: the shipped OTA journey's run (every instance created) and step workers
  running until nothing is due (each owner's article and beta invitation in the inbox and
  queued for push, the tag requested, decisions logged, events in the outbox);
- the baseline: a raw INSERT of exactly the rows the release wrote (instances, messages,
  deliveries, decisions, tags, outbox) into copies of the same tables, with no logic at all.

Prints time, rate and the ratio to the baseline; asserts nothing about time.

    python -m bench.journeys [--owners 100000] [--workers 2]
"""

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text

from bench import summary
from cli.embedded import EmbeddedPostgres
from services.journeys.config import MIGRATIONS_DIR, JourneysSettings
from services.journeys.domain import DefinitionStatus
from services.journeys.models import KnownOwner, OwnerConsent, OwnerSegment
from services.journeys.service import definitions, entry
from services.journeys.timers import StepWorker
from shared.auth import Caller, CallerKind, StaffRole
from shared.config import Environment
from shared.database import Database, service_url
from shared.migrations import upgrade

MARKETER = Caller(kind=CallerKind.STAFF, subject="bench@cem", roles=frozenset({StaffRole.ADMIN}))
# 10:00 in Shanghai: outside quiet hours, so every push is queued for now.
NOW = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)
WRITTEN = ["journey_instances", "messages", "deliveries", "decisions", "owner_tags", "outbox"]
RELEASE = {
    "release_version": "5.0",
    "release_summary": "a new parking assistant",
    "article_link": "https://cem.dev/ota/5.0",
    "beta_link": "https://cem.dev/beta",
}


def main() -> None:
    arguments = _arguments()
    with tempfile.TemporaryDirectory(prefix="cem-bench-journeys-") as folder:
        with EmbeddedPostgres(Path(folder) / "postgres", durable=False) as postgres:
            settings = JourneysSettings(
                environment=Environment.LOCAL,
                database_url=postgres.url,
                database_prefix=f"cembench_{uuid.uuid4().hex[:8]}",
            )
            upgrade("journeys", MIGRATIONS_DIR, settings)
            asyncio.run(_bench(service_url(settings, "journeys"), arguments))
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="step workers side by side")
    summary.add_option(parser)
    return parser.parse_args()


async def _bench(url, arguments: argparse.Namespace) -> None:
    database = Database(url, pool_size=arguments.workers + 2)
    try:
        started = time.perf_counter()
        await _seed(database, arguments.owners)
        print(f"seeded {arguments.owners:,} tech enthusiasts in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        release = await _release(database, arguments.workers)
        written = await _counts(database)
        if written["messages"] != arguments.owners:
            raise SystemExit(f"expected {arguments.owners} first messages, found {written}")
        baseline = await _baseline(database)
        _report(arguments.owners, release, baseline, written)
    finally:
        await database.dispose()


async def _seed(database: Database, count: int) -> None:
    owners = [uuid.uuid4() for _ in range(count)]
    tables = (
        (KnownOwner, [{"id": o, "language": "zh" if i % 3 else "en"}
                      for i, o in enumerate(owners)]),
        (OwnerSegment, [{"owner_id": o, "segment_key": "tech_enthusiast"} for o in owners]),
        (OwnerConsent, [{"owner_id": o, "purpose": "marketing", "channel": "app_push",
                         "granted": True, "changed_at": NOW} for o in owners]),
    )  # fmt: skip
    async with database.transaction() as session:
        for model, rows in tables:
            for start in range(0, len(rows), 5_000):
                await session.execute(insert(model), rows[start : start + 5_000])
        await session.execute(text("ANALYZE"))


async def _release(database: Database, workers: int) -> dict[str, float]:
    async with database.transaction() as session:
        installed = await definitions.install_template(
            session, caller=MARKETER, template="ota_release_tech_enthusiasts", key=None, now=NOW
        )
        await definitions.transition(session, key=installed.key, version=1,
                                     target=DefinitionStatus.ACTIVE, now=NOW)  # fmt: skip
    started = time.perf_counter()
    async with database.transaction() as session:
        report = await entry.start_run(session, key=installed.key, context=RELEASE, now=NOW)
    entered = time.perf_counter()
    await asyncio.gather(*(
        StepWorker(database, clock=lambda: NOW, batch=2_000).run_once() for _ in range(workers)
    ))  # fmt: skip
    done = time.perf_counter()
    print(f"run: {report.entered:,} instances entered ({report.held_out} held out)")
    return {"enter": entered - started, "steps": done - entered, "total": done - started}


async def _counts(database: Database) -> dict[str, int]:
    async with database.transaction() as session:
        return {t: await session.scalar(text(f"SELECT count(*) FROM {t}")) for t in WRITTEN}


async def _baseline(database: Database) -> float:
    """The same rows, read back first (not timed), then inserted raw into empty copies."""
    rows: dict[str, list[dict]] = {}
    async with database.transaction() as session:
        for table in WRITTEN:
            await session.execute(text(
                f"CREATE TABLE copy_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)"
            ))  # fmt: skip
            found = await session.execute(text(f"SELECT * FROM {table}"))
            rows[table] = [_as_parameters(row) for row in found.mappings()]
    started = time.perf_counter()
    async with database.transaction() as session:
        for table, values in rows.items():
            if not values:
                continue
            columns = list(values[0])
            statement = text(
                f"INSERT INTO copy_{table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)})"
            )
            for start in range(0, len(values), 5_000):
                await session.execute(statement, values[start : start + 5_000])
    return time.perf_counter() - started


def _as_parameters(row) -> dict:
    """JSON columns go back as text, as the service's own statements send them."""
    return {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}


def _report(owners: int, release: dict[str, float], baseline: float, written: dict) -> None:
    rows = sum(written.values())
    print("rows written: " + ", ".join(f"{t} {n:,}" for t, n in written.items()))
    print(f"OTA release to {owners:,} owners: {release['total']:.1f} s "
          f"({owners / release['total']:,.0f} owners/s; entering {release['enter']:.1f} s, "
          f"steps {release['steps']:.1f} s)")  # fmt: skip
    print(f"baseline, raw INSERT of the same {rows:,} rows: {baseline:.1f} s "
          f"({rows / baseline:,.0f} rows/s)")  # fmt: skip
    print(f"ratio release / baseline: {release['total'] / baseline:.2f}x; "
          f"target under 60 s: {'met' if release['total'] < 60 else 'missed'}")  # fmt: skip
    summary.record(owners=owners, release=release, baseline_seconds=baseline, rows=rows)
