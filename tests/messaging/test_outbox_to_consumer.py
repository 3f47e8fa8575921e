"""Outbox → NATS JetStream → inbox consumer, across two real databases.

Each effect is counted (not de-duplicated by the effect table), so a double application
would show as a count of 2.
"""

import asyncio
import uuid
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.config import CommonSettings
from shared.database import Database, create_database_if_missing, service_url
from shared.messaging.broker import connect, ensure_stream
from shared.messaging.consumer import ConsumerSettings, EventConsumer, PoisonMessage, Subscription
from shared.messaging.envelope import Envelope, Event, EventType, stream_name
from shared.messaging.outbox import OutboxRelay, record_event
from shared.messaging.tables import add_messaging_tables
from tests.helpers import eventually


class ThingHappened(Event):
    event_type = EventType("msgtest", "thing", "happened")

    number: int
    poison: bool = False


def _metadata(with_effects: bool) -> MetaData:
    metadata = MetaData()
    add_messaging_tables(metadata)
    if with_effects:
        Table(
            "effects",
            metadata,
            Column("event_id", Uuid, primary_key=True),
            Column("number", Integer, nullable=False),
            Column("applied", Integer, nullable=False),
        )
    return metadata


async def _fresh_database(settings: CommonSettings, name: str, metadata: MetaData) -> Database:
    await create_database_if_missing(settings, name)
    engine = create_async_engine(service_url(settings, name))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    return Database(service_url(settings, name), pool_size=5)


async def apply_effect(session, envelope: Envelope, event: ThingHappened) -> None:
    if event.poison:
        raise PoisonMessage("poison requested by the test")
    await session.execute(
        text(
            "INSERT INTO effects (event_id, number, applied) VALUES (:id, :number, 1) "
            "ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1"
        ),
        {"id": envelope.id, "number": event.number},
    )


@asynccontextmanager
async def messaging_pair(settings: CommonSettings, nats_url: str):
    """A producer database with a relay and a consumer database with a consumer."""
    tag = uuid.uuid4().hex[:6]
    producer = await _fresh_database(settings, f"msgprod_{tag}", _metadata(False))
    consumer = await _fresh_database(settings, f"msgcons_{tag}", _metadata(True))
    producer_nats = await connect(nats_url, name="test-producer")
    consumer_nats = await connect(nats_url, name="test-consumer")
    await ensure_stream(producer_nats, "msgtest")
    await producer_nats.jetstream().purge_stream(stream_name("msgtest"))  # earlier tests' events
    relay = OutboxRelay(
        service="msgtest",
        database=producer,
        jetstream=producer_nats.jetstream(),
        interval_seconds=0.2,
    )
    event_consumer = EventConsumer(
        service=f"msgcons_{tag}",
        database=consumer,
        client=consumer_nats,
        subscriptions=[Subscription("apply", ThingHappened, apply_effect)],
        settings=ConsumerSettings(batch=100, max_deliver=3, backoff_seconds=(0.1,)),
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(event_consumer.run())]
    try:
        yield producer, consumer, producer_nats
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in (producer_nats, consumer_nats):
            await client.close()
        for database in (producer, consumer):
            await database.dispose()


async def produce(producer: Database, numbers: range, **fields) -> None:
    async with producer.transaction() as session:
        for number in numbers:
            await record_event(session, ThingHappened(number=number, **fields))


async def effect_counts(consumer: Database) -> tuple[int, int]:
    """(distinct events applied, total applications)."""
    async with consumer.transaction() as session:
        row = (
            await session.execute(text("SELECT count(*), coalesce(sum(applied), 0) FROM effects"))
        ).one()
    return row[0], row[1]


async def unpublished(producer: Database) -> int:
    async with producer.transaction() as session:
        return await session.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


@pytest.fixture
def settings(infrastructure) -> CommonSettings:
    return infrastructure.settings()


async def test_each_event_is_applied_once(settings, infrastructure):
    async with messaging_pair(settings, infrastructure.nats_url) as (producer, consumer, _):
        await produce(producer, range(200))

        async def all_applied():
            return (await effect_counts(consumer))[0] == 200

        await eventually(all_applied)
        assert await effect_counts(consumer) == (200, 200)
        assert await unpublished(producer) == 0


async def test_a_redelivered_event_is_absorbed_by_the_inbox(settings, infrastructure):
    async with messaging_pair(settings, infrastructure.nats_url) as (producer, consumer, nats):
        await produce(producer, range(1))

        async def applied():
            return (await effect_counts(consumer))[0] == 1

        await eventually(applied)
        async with producer.transaction() as session:
            raw = await session.scalar(text("SELECT envelope::text FROM outbox"))
        # The same event again, past JetStream's de-duplication (no Nats-Msg-Id).
        await nats.jetstream().publish(ThingHappened.event_type.subject, raw.encode())
        await nats.jetstream().publish(ThingHappened.event_type.subject, raw.encode())
        await produce(producer, range(1, 2))

        async def second_applied():
            return (await effect_counts(consumer))[0] == 2

        await eventually(second_applied)
        assert await effect_counts(consumer) == (2, 2)


async def test_poison_messages_are_dead_lettered_and_flow_continues(settings, infrastructure):
    async with messaging_pair(settings, infrastructure.nats_url) as (producer, consumer, nats):
        await nats.jetstream().publish(ThingHappened.event_type.subject, b"{not json")
        await produce(producer, range(1), poison=True)
        await produce(producer, range(1, 4))

        async def three_applied():
            return (await effect_counts(consumer))[0] == 3

        await eventually(three_applied)

        async def two_dead_letters():
            async with consumer.transaction() as session:
                return await session.scalar(text("SELECT count(*) FROM dead_letters")) == 2

        await eventually(two_dead_letters)
        async with consumer.transaction() as session:
            reasons = (
                await session.scalars(text("SELECT reason FROM dead_letters ORDER BY id"))
            ).all()
        assert reasons[0].startswith("undecodable")
        assert reasons[1].startswith("rejected: poison requested")


async def test_nothing_is_lost_when_nats_restarts_mid_stream(settings, private_nats):
    async with messaging_pair(settings, private_nats.url) as (producer, consumer, _):
        await produce(producer, range(0, 300))

        async def some_applied():
            return (await effect_counts(consumer))[0] > 0

        await eventually(some_applied)
        private_nats.kill()
        # Accepted writes keep arriving while the broker is down.
        await produce(producer, range(300, 600))
        await asyncio.sleep(1.0)
        private_nats.start()
        await produce(producer, range(600, 900))

        async def all_applied():
            return (await effect_counts(consumer))[0] == 900

        await eventually(all_applied, within_seconds=90)
        assert await effect_counts(consumer) == (900, 900)

        async def drained():
            return await unpublished(producer) == 0

        await eventually(drained)
