"""Outbox → NATS JetStream → inbox consumer, across two real databases (see harness).

Faults (broker, relay, consumer and database crashes) are in tests/faults.
"""

import pytest
from sqlalchemy import text

from shared.config import CommonSettings
from tests.helpers import eventually
from tests.messaging.harness import (
    ThingHappened,
    effect_counts,
    produce,
    running_pipeline,
    unpublished,
)


@pytest.fixture
def settings(infrastructure) -> CommonSettings:
    return infrastructure.settings()


async def test_each_event_is_applied_once(settings, infrastructure):
    async with await running_pipeline(settings, infrastructure.nats_url) as pipeline:
        await produce(pipeline.producer, range(200))

        async def all_applied():
            return (await effect_counts(pipeline.consumer))[0] == 200

        await eventually(all_applied)
        assert await effect_counts(pipeline.consumer) == (200, 200)
        assert await unpublished(pipeline.producer) == 0


async def test_a_redelivered_event_is_absorbed_by_the_inbox(settings, infrastructure):
    async with await running_pipeline(settings, infrastructure.nats_url) as pipeline:
        await produce(pipeline.producer, range(1))

        async def applied():
            return (await effect_counts(pipeline.consumer))[0] == 1

        await eventually(applied)
        async with pipeline.producer.transaction() as session:
            raw = await session.scalar(text("SELECT envelope::text FROM outbox"))
        # The same event again, past JetStream's de-duplication (no Nats-Msg-Id).
        jetstream = pipeline.producer_nats.jetstream()
        await jetstream.publish(ThingHappened.event_type.subject, raw.encode())
        await jetstream.publish(ThingHappened.event_type.subject, raw.encode())
        await produce(pipeline.producer, range(1, 2))

        async def second_applied():
            return (await effect_counts(pipeline.consumer))[0] == 2

        await eventually(second_applied)
        assert await effect_counts(pipeline.consumer) == (2, 2)
        assert pipeline.handled("duplicate") == 2


async def test_poison_messages_are_dead_lettered_and_flow_continues(settings, infrastructure):
    async with await running_pipeline(settings, infrastructure.nats_url) as pipeline:
        jetstream = pipeline.producer_nats.jetstream()
        await jetstream.publish(ThingHappened.event_type.subject, b"{not json")
        await produce(pipeline.producer, range(1), poison=True)
        await produce(pipeline.producer, range(1, 4))

        async def three_applied():
            return (await effect_counts(pipeline.consumer))[0] == 3

        await eventually(three_applied)

        async def two_dead_letters():
            async with pipeline.consumer.transaction() as session:
                return await session.scalar(text("SELECT count(*) FROM dead_letters")) == 2

        await eventually(two_dead_letters)
        async with pipeline.consumer.transaction() as session:
            reasons = (
                await session.scalars(text("SELECT reason FROM dead_letters ORDER BY id"))
            ).all()
        assert reasons[0].startswith("undecodable")
        assert reasons[1].startswith("rejected: poison requested")
