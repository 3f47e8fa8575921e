"""The events of one fetch share a transaction; a failure among them costs none its effect."""

import asyncio

import pytest
from sqlalchemy import text

from shared.config import CommonSettings
from shared.messaging.outbox import publish_row
from tests.helpers import eventually
from tests.messaging.harness import (
    Pipeline,
    apply_effect,
    effect_counts,
    produce,
    scalar,
    unpublished,
)

EVENTS = 60


@pytest.fixture
def settings(infrastructure) -> CommonSettings:
    return infrastructure.settings()


async def _published_before_consuming(pipeline: Pipeline, **fields) -> None:
    """Every event is in the stream before the consumer starts, so fetches come full."""
    await produce(pipeline.producer, range(EVENTS), **fields)
    await pipeline.relay().publish_pending()
    assert await unpublished(pipeline.producer) == 0


async def _all_applied(pipeline: Pipeline, count: int = EVENTS) -> None:
    async def applied() -> bool:
        return (await effect_counts(pipeline.consumer))[0] == count

    await eventually(applied)


async def test_a_fetched_backlog_is_applied_in_a_few_transactions(settings, infrastructure):
    transactions: list[int] = []

    async def note_transaction(session, envelope, event) -> None:
        transactions.append(await session.scalar(text("SELECT txid_current()")))
        await apply_effect(session, envelope, event)

    async with Pipeline(settings, infrastructure.nats_url, handler=note_transaction) as pipeline:
        await _published_before_consuming(pipeline)
        pipeline.start_consumer()
        await _all_applied(pipeline)

        assert await effect_counts(pipeline.consumer) == (EVENTS, EVENTS)
        assert len(transactions) == EVENTS
        # A fetch of up to 100: one transaction, or a few should the broker split it.
        assert len(set(transactions)) <= 3
        assert pipeline.handled("handled") == EVENTS


async def test_a_failure_mid_fetch_rolls_back_the_others_then_each_applies_once(
    settings, infrastructure
):
    failed_once: set[int] = set()

    async def fails_first_time_at_thirty(session, envelope, event) -> None:
        await apply_effect(session, envelope, event)
        if event.number == 30 and not failed_once:
            failed_once.add(event.number)
            raise RuntimeError("a dependency hiccups once")

    async with Pipeline(
        settings, infrastructure.nats_url, handler=fails_first_time_at_thirty
    ) as pipeline:
        await _published_before_consuming(pipeline)
        pipeline.start_consumer()
        await _all_applied(pipeline)

        # The thirty applied before the failure were rolled back with it, not kept twice.
        assert await effect_counts(pipeline.consumer) == (EVENTS, EVENTS)
        assert failed_once == {30}


async def test_a_poison_event_in_a_fetch_is_dead_lettered_and_the_rest_apply(
    settings, infrastructure
):
    async with Pipeline(settings, infrastructure.nats_url) as pipeline:
        await produce(pipeline.producer, range(20))
        await produce(pipeline.producer, range(20, 21), poison=True)
        await produce(pipeline.producer, range(21, 40))
        await pipeline.relay().publish_pending()
        pipeline.start_consumer()
        await _all_applied(pipeline, 39)

        async def one_dead_letter() -> bool:
            async with pipeline.consumer.transaction() as session:
                return await session.scalar(text("SELECT count(*) FROM dead_letters")) == 1

        await eventually(one_dead_letter)
        assert await effect_counts(pipeline.consumer) == (39, 39)
        async with pipeline.consumer.transaction() as session:
            numbers = set((await session.scalars(text("SELECT number FROM effects"))).all())
        assert numbers == set(range(40)) - {20}


async def test_a_shared_transaction_meeting_a_held_lock_gives_way(settings, infrastructure):
    async with Pipeline(settings, infrastructure.nats_url) as pipeline:
        await _published_before_consuming(pipeline)
        async with pipeline.producer.transaction() as session:
            tenth = await session.scalar(
                text("SELECT (envelope->>'id')::uuid FROM outbox ORDER BY seq OFFSET 10 LIMIT 1")
            )
        # A request elsewhere holds the row the tenth event's effect writes.
        async with pipeline.consumer.transaction() as blocker:
            await blocker.execute(
                text("INSERT INTO effects (event_id, number, applied) VALUES (:id, 10, 0)"),
                {"id": tenth},
            )
            pipeline.start_consumer()
            # The shared transaction rolled back instead of holding the first ten's rows;
            # taken one by one, they commit while the tenth still waits.
            await _all_applied(pipeline, 10)
            await blocker.rollback()
        await _all_applied(pipeline)
        assert await effect_counts(pipeline.consumer) == (EVENTS, EVENTS)


async def test_a_stop_mid_fetch_leaves_the_unhandled_events_for_the_next_start(
    settings, infrastructure
):
    """The fetch is claimed in the inbox at once; a stop after the tenth event must not
    commit the other claims, or the next start would skip those events as handled."""
    consumer: list = []

    async def stops_after_the_tenth(session, envelope, event) -> None:
        await apply_effect(session, envelope, event)
        if event.number == 9:
            consumer[0].stop()

    async with Pipeline(settings, infrastructure.nats_url, handler=stops_after_the_tenth) as pipe:
        await _published_before_consuming(pipe)
        consumer.append(pipe.event_consumer())
        await asyncio.wait_for(consumer[0].run(), 30)
        assert await effect_counts(pipe.consumer) == (10, 10)
        assert await scalar(pipe.consumer, "SELECT count(*) FROM inbox") == 10

        pipe.handler = apply_effect
        pipe.start_consumer()
        await _all_applied(pipe)
        assert await effect_counts(pipe.consumer) == (EVENTS, EVENTS)


async def test_an_event_twice_in_one_fetch_applies_once(settings, infrastructure):
    async with Pipeline(settings, infrastructure.nats_url) as pipeline:
        await produce(pipeline.producer, range(EVENTS))
        async with pipeline.producer.transaction() as session:
            rows = (await session.execute(text("SELECT id, subject, envelope FROM outbox"))).all()
        # Each event twice in a row, under message ids the broker does not take for repeats
        # (a replay meeting a redelivery): one fetch holds both.
        for row in rows:
            for copy in ("first", "again"):
                await publish_row(
                    pipeline.producer_nats.jetstream(), row, message_id=f"{row.id}-{copy}"
                )
        pipeline.start_consumer()
        await _all_applied(pipeline)
        assert await effect_counts(pipeline.consumer) == (EVENTS, EVENTS)
        assert pipeline.handled("duplicate") == EVENTS
