"""PostgreSQL stopped and started under a running service: relay, consumer and a timer
worker all carry on, readiness tells the truth, and no accepted write is lost."""

import asyncio

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import text

from shared.config import CommonSettings, Environment, ServiceSettings
from shared.messaging.consumer import ConsumerSettings, Subscription
from shared.runtime import build_service_app
from tests.helpers import eventually, running
from tests.messaging.harness import (
    PRODUCER,
    Pipeline,
    ThingHappened,
    apply_effect,
    effect_counts,
    fresh_database,
    messaging_metadata,
    produce,
    scalar,
    unpublished,
)


class Ticker:
    """A worker with no error handling of its own: the database going away kills it."""

    def __init__(self) -> None:
        self.ticks = 0

    async def __call__(self, database) -> None:
        while True:
            async with database.transaction() as session:
                await session.execute(text("SELECT 1"))
            self.ticks += 1
            await asyncio.sleep(0.1)


class SteadyWriter:
    """Records one event per transaction; a write is accepted only if its commit returned."""

    def __init__(self, database) -> None:
        self.database = database
        self.accepted: list[int] = []
        self.refused = 0

    async def run(self) -> None:
        number = 0
        while True:
            try:
                await produce(self.database, range(number, number + 1))
                self.accepted.append(number)
            except Exception:
                self.refused += 1
            number += 1
            await asyncio.sleep(0.02)


async def test_postgres_restart_loses_no_accepted_write(private_postgres, private_nats):
    settings = ServiceSettings(
        environment=Environment.TEST,
        database_url=private_postgres.url,
        nats_url=private_nats.url,
        database_prefix="pgfault",
        relay_interval_seconds=0.2,
        log_level="ERROR",
    )
    setup = await fresh_database(settings, PRODUCER, messaging_metadata(True))
    await setup.dispose()
    ticker = Ticker()
    app = build_service_app(
        service=PRODUCER,
        settings=settings,
        routers=[],
        subscriptions=[Subscription("apply", ThingHappened, apply_effect)],
        workers=[ticker],
        title="faults",
    )
    database = app.state.database
    probe = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")

    async def ready() -> bool:
        return (await probe.get("/readyz")).status_code == 200

    async def applied() -> dict[int, int]:
        async with database.transaction() as session:
            rows = await session.execute(text("SELECT number, applied FROM effects"))
            return {number: count for number, count in rows}

    async with running(app):
        writer = SteadyWriter(database)
        writing = asyncio.create_task(writer.run())

        async def flowing():
            return len(await applied()) >= 20

        await eventually(flowing)
        assert await ready()

        await asyncio.to_thread(private_postgres.stop)
        readiness = await probe.get("/readyz")
        assert readiness.status_code == 503
        assert "database" in readiness.json()["detail"]
        await asyncio.sleep(1.0)  # writes are refused, the workers fail and retry
        await asyncio.to_thread(private_postgres.start)

        await eventually(ready, within_seconds=30)
        accepted_before = len(writer.accepted)

        async def writes_accepted_again():
            return len(writer.accepted) > accepted_before + 20

        await eventually(writes_accepted_again)
        writing.cancel()
        await asyncio.gather(writing, return_exceptions=True)
        assert writer.refused > 0, "the outage did not interrupt the writes"

        async def every_accepted_write_applied():
            return set(writer.accepted) <= set(await applied())

        await eventually(every_accepted_write_applied, within_seconds=60)
        assert set((await applied()).values()) == {1}, "an event was applied twice"

        ticks_after_restart = ticker.ticks
        await eventually(_more_than(ticker, ticks_after_restart))
        restarts = REGISTRY.get_sample_value(
            "cem_background_task_restarts_total",
            {"service": PRODUCER, "task": "service-worker-0"},
        )
        assert restarts and restarts >= 1, "the worker's death went unnoticed"
        runtime = app.state.runtime
        assert all(not task.done() for task in runtime.tasks)
        assert await ready()
    await probe.aclose()


def _more_than(ticker: Ticker, ticks: int):
    async def ticking() -> bool:
        return ticker.ticks > ticks

    return ticking


async def test_a_database_outage_buries_no_event_in_the_dead_letters(
    private_postgres, private_nats
):
    """Each delivery during the outage fails; none of them counts towards `max_deliver`."""
    settings = CommonSettings(
        environment=Environment.TEST,
        database_url=private_postgres.url,
        nats_url=private_nats.url,
        database_prefix="pgoutage",
    )
    impatient = ConsumerSettings(max_deliver=2, ack_wait_seconds=2.0, backoff_seconds=(0.1,))
    async with Pipeline(settings, private_nats.url, consumer_settings=impatient) as pipeline:
        pipeline.start_relay()
        await produce(pipeline.producer, range(300))

        async def all_published():
            return await unpublished(pipeline.producer) == 0

        await eventually(all_published)
        pipeline.start_consumer()

        async def consuming():
            return (await effect_counts(pipeline.consumer))[0] > 0

        await eventually(consuming)
        await asyncio.to_thread(private_postgres.stop)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(private_postgres.start)

        async def all_applied():
            return (await effect_counts(pipeline.consumer))[0] == 300

        await eventually(all_applied)
        assert await effect_counts(pipeline.consumer) == (300, 300)
        assert pipeline.handled("retried") > 0, "no delivery met the outage"
        assert await scalar(pipeline.consumer, "SELECT count(*) FROM dead_letters") == 0
