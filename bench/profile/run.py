"""Profile: segment counts over hundreds of thousands of owners, on the SQL path.

Starts an embedded PostgreSQL, migrates profile's database (which ships the scenario
segments) and fills it with `--owners` owners, their facts and about three interaction
events each over 60 days. Then, for every shipped segment, measures in the same run:

- the count as the service computes it (the condition compiled to SQL, `count_matching`);
- a baseline that loads every owner's facts and recent events and evaluates the same
  condition in memory, one owner at a time (the per-owner path applied to everyone).

Both must give the same count. Prints medians over `--rounds` and the ratio; asserts
nothing about time.

    python -m bench.profile [--owners 200000] [--rounds 3]
"""

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench import summary
from cli.embedded import EmbeddedPostgres
from services.profile.conditions import (
    OwnerSnapshot,
    PastEventFact,
    attribute_values,
    evaluate,
    max_window_days,
    parse_condition,
)
from services.profile.config import MIGRATIONS_DIR, ProfileSettings
from services.profile.repository.segments import SegmentRepository
from services.profile.standard_segments import STANDARD_SEGMENTS
from shared.config import Environment
from shared.database import Database, service_url
from shared.migrations import upgrade

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
CITIES = ["Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu", None]
EVENT_TYPES = ["app_opened", "feature_used", "community_post_created", "community_post_engaged"]
FACT_COLUMNS = [
    "owner_id", "lifecycle_stage", "points_balance", "latest_nps", "latest_csat", "detractor",
    "open_tickets", "open_complaints", "assisted_driving_share", "new_apps_30d",
    "harsh_events_per_100km", "family_destination_share", "distance_km_30d",
    "service_due_date", "tags", "updated_at",
]  # fmt: skip


def main() -> None:
    arguments = _arguments()
    with tempfile.TemporaryDirectory(prefix="cem-bench-profile-") as folder:
        with EmbeddedPostgres(Path(folder) / "postgres", durable=False) as postgres:
            settings = ProfileSettings(
                environment=Environment.LOCAL,
                database_url=postgres.url,
                database_prefix=f"cembench_{uuid.uuid4().hex[:8]}",
            )
            upgrade("profile", MIGRATIONS_DIR, settings)
            asyncio.run(_bench(service_url(settings, "profile"), arguments))
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    summary.add_option(parser)
    return parser.parse_args()


async def _bench(url, arguments: argparse.Namespace) -> None:
    started = time.perf_counter()
    await _seed(url, arguments.owners, random.Random(11))
    summary.record(owners=arguments.owners)
    print(f"seeded {arguments.owners} owners in {time.perf_counter() - started:.1f} s")
    database = Database(url)
    try:
        print(f"{'segment':<16} {'members':>8} {'sql ms':>9} {'memory ms':>10} {'ratio':>7}")
        for segment in STANDARD_SEGMENTS:
            await _bench_segment(database, segment, arguments.rounds)
    finally:
        await database.dispose()


async def _bench_segment(database: Database, segment: dict, rounds: int) -> None:
    condition = parse_condition(segment["condition"])
    sql_times, memory_times = [], []
    for _ in range(rounds):
        async with database.transaction() as session:
            started = time.perf_counter()
            in_sql = await SegmentRepository(session).count_matching(
                condition, caller=None, now=NOW
            )
            sql_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        in_memory = await _count_in_memory(database, condition)
        memory_times.append(time.perf_counter() - started)
        if in_sql != in_memory:
            raise SystemExit(f"{segment['key']}: SQL counted {in_sql}, memory {in_memory}")
    sql, memory = statistics.median(sql_times), statistics.median(memory_times)
    print(
        f"{segment['key']:<16} {in_sql:>8} {sql * 1000:>9.1f} {memory * 1000:>10.1f} "
        f"{memory / sql:>6.1f}x"
    )
    segments = summary.FIGURES.setdefault("segments", {})
    segments[segment["key"]] = {"members": in_sql, "sql_seconds": sql, "memory_seconds": memory}


async def _count_in_memory(database: Database, condition) -> int:
    """The baseline: every owner's facts and recent events loaded, evaluated one by one."""
    window = max_window_days(condition)
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection
        facts = await driver.fetch(
            "SELECT f.*, o.city, o.preferred_language FROM owner_facts f "
            "JOIN owners o ON o.id = f.owner_id WHERE o.merged_into IS NULL AND o.erased_at IS NULL"
        )
        events: dict[uuid.UUID, list[PastEventFact]] = {}
        if window:
            rows = await driver.fetch(
                "SELECT owner_id, type, occurred_at, properties FROM interaction_events "
                "WHERE occurred_at >= $1",
                NOW - timedelta(days=window),
            )
            for row in rows:
                events.setdefault(row["owner_id"], []).append(
                    PastEventFact(row["type"], row["occurred_at"], _json(row["properties"]))
                )
    today = NOW.date()
    return sum(
        1
        for row in facts
        if evaluate(
            condition,
            OwnerSnapshot(
                attributes=attribute_values(
                    dict(row), city=row["city"], language=row["preferred_language"], today=today
                ),
                tags=frozenset(row["tags"]),
                events=tuple(events.get(row["owner_id"], ())),
                now=NOW,
            ),
        )
    )


def _json(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


async def _seed(url, owners: int, rng: random.Random) -> None:
    connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        for start in range(0, owners, 50_000):
            chunk = [uuid.uuid4() for _ in range(min(50_000, owners - start))]
            await connection.copy_records_to_table(
                "owners",
                records=[
                    (o, "bench", rng.choice(CITIES), rng.choice(["en", "zh"]), NOW) for o in chunk
                ],
                columns=["id", "full_name", "city", "preferred_language", "created_at"],
            )
            await connection.copy_records_to_table(
                "owner_facts", records=[_facts(o, rng) for o in chunk], columns=FACT_COLUMNS
            )
            await connection.copy_records_to_table(
                "interaction_events",
                records=[event for o in chunk for event in _events(o, rng)],
                columns=["id", "owner_id", "type", "source", "occurred_at", "properties",
                         "received_at"],
            )  # fmt: skip
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _maybe(rng: random.Random, value):
    return None if rng.random() < 0.3 else value


def _facts(owner_id: uuid.UUID, rng: random.Random) -> tuple:
    return (
        owner_id,
        rng.choice(["awareness", "purchase", "delivery", "usage_and_service", "loyalty"]),
        rng.randint(0, 2000),
        _maybe(rng, rng.randint(0, 10)),
        _maybe(rng, rng.randint(1, 5)),
        rng.random() < 0.1,
        rng.choice([0, 0, 0, 1, 2]),
        rng.choice([0, 0, 0, 0, 1]),
        _maybe(rng, round(rng.random(), 2)),
        _maybe(rng, rng.choice([0, 0, 1, 2, 3])),
        _maybe(rng, round(rng.uniform(0, 10), 1)),
        _maybe(rng, round(rng.random() * 0.6, 2)),
        _maybe(rng, round(rng.uniform(0, 3000), 1)),
        _maybe(rng, NOW.date() + timedelta(days=rng.randint(-20, 200))),
        rng.sample(["beta_group", "vip", "fleet"], rng.randint(0, 1)),
        NOW,
    )


def _events(owner_id: uuid.UUID, rng: random.Random) -> list[tuple]:
    if rng.random() < 0.02:  # an active poster whose posts draw engagement
        return [_event(owner_id, "community_post_created", rng) for _ in range(4)] + [
            _event(owner_id, "community_post_engaged", rng) for _ in range(11)
        ]
    return [_event(owner_id, rng.choice(EVENT_TYPES), rng) for _ in range(rng.randint(0, 6))]


def _event(owner_id: uuid.UUID, event_type: str, rng: random.Random) -> tuple:
    return (
        uuid.uuid4(),
        owner_id,
        event_type,
        "app",
        NOW
        - timedelta(days=rng.uniform(0, 60) if event_type == "app_opened" else rng.uniform(0, 25)),
        '{"feature": "assisted_driving"}' if rng.random() < 0.5 else "{}",
        NOW,
    )
