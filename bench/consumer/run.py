"""Event consumption: a backlog drained with the events of each fetch sharing one transaction,
against a transaction per event (the consumer before they shared), in the same run.

Starts a durable embedded PostgreSQL (fsync on, as `make run` keeps its data) and a
nats-server from the wheels, puts `--events` events in a stream, and lets a fresh durable
consumer drain the whole stream each way, `--rounds` times, alternating. The handler is
shaped like the services' projections: it reads one row by key and upserts it. A round ends
when every event's inbox row is committed. Prints events per second each way (median of
the rounds) and the ratio; asserts nothing about time.

    python -m bench.consumer [--events 20000] [--rounds 3] [--fetch 50]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import summary
from cli.embedded import EmbeddedNats, EmbeddedPostgres
from shared.config import CommonSettings
from shared.database import Database, create_database_if_missing, service_url
from shared.messaging.broker import connect, ensure_stream
from shared.messaging.consumer import ConsumerSettings, EventConsumer, Subscription
from shared.messaging.envelope import Envelope, Event, EventType
from shared.messaging.tables import add_messaging_tables

PRODUCER = "benchproducer"
PUBLISH_BATCH = 200
KEYS = 1000  # distinct projection rows the events update


class ThingCounted(Event):
    event_type = EventType(PRODUCER, "thing", "counted")

    key: int


class OneTransactionPerEvent(EventConsumer):
    """The baseline: every event claimed and applied in a transaction of its own."""

    async def _process_together(self, subscription, unfinished) -> None:
        return None  # leaves the whole fetch to `process`, one event at a time


async def project(session, envelope: Envelope, event: ThingCounted) -> None:
    parameters = {"key": event.key}
    await session.execute(text("SELECT total FROM projected WHERE key = :key"), parameters)
    await session.execute(
        text(
            "INSERT INTO projected (key, total) VALUES (:key, 1) "
            "ON CONFLICT (key) DO UPDATE SET total = projected.total + 1"
        ),
        parameters,
    )


async def _fresh_database(settings: CommonSettings) -> Database:
    metadata = MetaData()
    add_messaging_tables(metadata)
    Table("projected", metadata, Column("key", Integer, primary_key=True), Column("total", Integer))
    await create_database_if_missing(settings, "consumer")
    engine = create_async_engine(service_url(settings, "consumer"))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    return Database(service_url(settings, "consumer"))


async def _fill_stream(client, events: int) -> None:
    await ensure_stream(client, PRODUCER)
    jetstream = client.jetstream()
    subject = ThingCounted.event_type.subject
    for start in range(0, events, PUBLISH_BATCH):
        envelopes = [
            Envelope.wrap(ThingCounted(key=number % KEYS)).model_dump_json().encode()
            for number in range(start, min(start + PUBLISH_BATCH, events))
        ]
        await asyncio.gather(*(jetstream.publish(subject, body) for body in envelopes))


async def _drain(consumer_class, database: Database, client, events: int, fetch: int) -> float:
    """Events per second for a fresh durable consumer reading the stream from its start."""
    service = f"bench_{uuid.uuid4().hex[:8]}"
    consumer = consumer_class(
        service=service,
        database=database,
        client=client,
        subscriptions=[Subscription("count", ThingCounted, project)],
        settings=ConsumerSettings(batch=fetch),
    )
    started = time.perf_counter()
    running = asyncio.create_task(consumer.run())
    count = text("SELECT count(*) FROM inbox WHERE consumer = :consumer")
    while True:
        async with database.transaction() as session:
            done = await session.scalar(count, {"consumer": f"{service}_count"})
        if done >= events:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    consumer.stop()
    await asyncio.wait_for(running, 60)
    return events / elapsed


async def _bench(folder: Path, arguments: argparse.Namespace) -> dict:
    with (
        EmbeddedPostgres(folder / "postgres", durable=True) as postgres,
        EmbeddedNats(folder / "nats") as broker,
    ):
        settings = CommonSettings(
            database_url=postgres.url, nats_url=broker.url, database_prefix="cembench"
        )
        database = await _fresh_database(settings)
        client = await connect(broker.url, name="bench-consumer")
        await _fill_stream(client, arguments.events)
        rates: dict[str, list[float]] = {"shared": [], "per_event": []}
        for _ in range(arguments.rounds):
            for way, consumer_class in (
                ("per_event", OneTransactionPerEvent),
                ("shared", EventConsumer),
            ):
                rate = await _drain(
                    consumer_class, database, client, arguments.events, arguments.fetch
                )
                rates[way].append(rate)
                print(f"  {way:>9}: {rate:>8,.0f} events/s", flush=True)
        await client.close()
        await database.dispose()
    return {way: statistics.median(figures) for way, figures in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--fetch", type=int, default=ConsumerSettings.batch, help="events per fetch"
    )
    summary.add_option(parser)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cem-bench-consumer-") as folder:
        rates = asyncio.run(_bench(Path(folder), arguments))
    ratio = rates["shared"] / rates["per_event"]
    print(
        f"draining {arguments.events:,} events, fetches of {arguments.fetch}: shared transaction "
        f"{rates['shared']:,.0f} events/s, a transaction per event {rates['per_event']:,.0f} "
        f"events/s, ratio {ratio:.2f} (median of {arguments.rounds} rounds)"
    )
    summary.record(events=arguments.events, fetch=arguments.fetch, ratio=ratio, **rates)
    summary.write(arguments.json)


if __name__ == "__main__":
    main()
