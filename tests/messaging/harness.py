"""A producer and a consumer service in miniature, for messaging and fault tests.

A producer database with an outbox and its relay, a consumer database with an inbox and an
`effects` table, and a durable consumer between them over real NATS. Each effect is counted
(not de-duplicated by the effect table), so a double application shows as a count of 2.
The relay and the consumer are tasks the test may kill and start again.
"""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from nats.aio.client import Client
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.application_role import provide_application_role
from shared.config import CommonSettings
from shared.database import Database, create_database_if_missing, service_url
from shared.messaging.broker import connect, ensure_stream, stream_config
from shared.messaging.consumer import (
    ConsumerSettings,
    EventConsumer,
    Handler,
    PoisonMessage,
    Subscription,
)
from shared.messaging.envelope import Envelope, Event, EventType, stream_name
from shared.messaging.outbox import OutboxRelay, record_event
from shared.messaging.tables import add_messaging_tables

PRODUCER = "msgtest"


class ThingHappened(Event):
    event_type = EventType(PRODUCER, "thing", "happened")

    number: int
    poison: bool = False


def messaging_metadata(with_effects: bool) -> MetaData:
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


async def fresh_database(settings: CommonSettings, name: str, metadata: MetaData) -> Database:
    await create_database_if_missing(settings, name)
    engine = create_async_engine(service_url(settings, name))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    # Services built on these tables run as the application role, as in production.
    await provide_application_role(settings, name)
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


async def produce(producer: Database, numbers: range, **fields) -> None:
    async with producer.transaction() as session:
        for number in numbers:
            await record_event(session, ThingHappened(number=number, **fields))


async def scalar(database: Database, sql: str, **parameters):
    async with database.transaction() as session:
        return await session.scalar(text(sql), parameters)


async def effect_counts(consumer: Database) -> tuple[int, int]:
    """(distinct events applied, total applications)."""
    async with consumer.transaction() as session:
        row = (
            await session.execute(text("SELECT count(*), coalesce(sum(applied), 0) FROM effects"))
        ).one()
    return row[0], row[1]


async def unpublished(producer: Database) -> int:
    return await scalar(producer, "SELECT count(*) FROM outbox WHERE published_at IS NULL")


async def shorten_duplicate_window(client: Client, seconds: float) -> None:
    """Lets a test outwait the broker's de-duplication instead of waiting two minutes."""
    config = stream_config(PRODUCER)
    config.duplicate_window = seconds
    await client.jetstream().update_stream(config)


@dataclass
class Pipeline:
    settings: CommonSettings
    nats_url: str
    handler: Handler = apply_effect
    consumer_settings: ConsumerSettings = field(
        default_factory=lambda: ConsumerSettings(batch=100, max_deliver=3, backoff_seconds=(0.1,))
    )
    relay_batch: int = 200
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    @property
    def consumer_service(self) -> str:
        return f"msgcons_{self.tag}"

    @property
    def durable(self) -> str:
        return f"{self.consumer_service}_apply"

    async def open(self) -> "Pipeline":
        self.producer = await fresh_database(
            self.settings, f"msgprod_{self.tag}", messaging_metadata(False)
        )
        self.consumer = await fresh_database(
            self.settings, self.consumer_service, messaging_metadata(True)
        )
        self.producer_nats = await connect(self.nats_url, name="test-producer")
        self.consumer_nats = await connect(self.nats_url, name="test-consumer")
        await ensure_stream(self.producer_nats, PRODUCER)
        # Earlier tests' events, when the broker is the session's.
        await self.producer_nats.jetstream().purge_stream(stream_name(PRODUCER))
        self.tasks: list[asyncio.Task] = []
        return self

    def relay(self, relay_class: Callable[..., OutboxRelay] = OutboxRelay) -> OutboxRelay:
        return relay_class(
            service=PRODUCER,
            database=self.producer,
            jetstream=self.producer_nats.jetstream(),
            interval_seconds=0.2,
            batch_size=self.relay_batch,
        )

    def event_consumer(self, consumer_class: type[EventConsumer] = EventConsumer) -> EventConsumer:
        return consumer_class(
            service=self.consumer_service,
            database=self.consumer,
            client=self.consumer_nats,
            subscriptions=[Subscription("apply", ThingHappened, self.handler)],
            settings=self.consumer_settings,
        )

    def start_relay(self, relay_class: type[OutboxRelay] = OutboxRelay) -> asyncio.Task:
        return self._start(self.relay(relay_class).run())

    def start_consumer(self, consumer_class: type[EventConsumer] = EventConsumer) -> asyncio.Task:
        return self._start(self.event_consumer(consumer_class).run())

    def _start(self, work) -> asyncio.Task:
        task = asyncio.create_task(work)
        self.tasks.append(task)
        return task

    def handled(self, outcome: str) -> float:
        """How many deliveries the consumer counted with this outcome (e.g. `duplicate`)."""
        labels = {"consumer": self.durable, "outcome": outcome}
        return REGISTRY.get_sample_value("cem_events_handled_total", labels) or 0.0

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for client in (self.producer_nats, self.consumer_nats):
            await client.close()
        for database in (self.producer, self.consumer):
            await database.dispose()

    async def __aenter__(self) -> "Pipeline":
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def running_pipeline(settings: CommonSettings, nats_url: str, **options) -> Pipeline:
    """A pipeline with its relay and consumer already running."""
    pipeline = await Pipeline(settings, nats_url, **options).open()
    pipeline.start_relay()
    pipeline.start_consumer()
    return pipeline
