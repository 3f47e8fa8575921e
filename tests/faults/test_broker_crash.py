"""nats-server killed (SIGKILL) mid-stream and restarted on the same store.

The issue's figure, 10,000 events, is the large variant (about a minute here, bounded by a
consumer's one transaction per event); the default run kills the broker as often on fewer.
"""

import asyncio

from tests.faults.conftest import scaled
from tests.helpers import eventually
from tests.messaging.harness import (
    ConsumerSettings,
    effect_counts,
    produce,
    running_pipeline,
    unpublished,
)

EVENTS = scaled(3_000, 10_000)
KILLS = 3
CHUNK = 500


async def test_broker_killed_mid_stream_every_effect_once_and_outbox_drained(
    settings, private_nats
):
    # A short ack wait: deliveries in flight when the broker dies come back quickly.
    consumer_settings = ConsumerSettings(batch=200, ack_wait_seconds=2.0, backoff_seconds=(0.1,))
    pipeline = await running_pipeline(
        settings, private_nats.url, consumer_settings=consumer_settings, relay_batch=500
    )
    async with pipeline:

        async def write_everything():
            for start in range(0, EVENTS, CHUNK):
                await produce(pipeline.producer, range(start, start + CHUNK))
                await asyncio.sleep(0.05)  # a steady stream, not one burst

        writer = asyncio.create_task(write_everything())
        for kill in range(1, KILLS + 1):

            async def progressed(kill=kill):
                applied, _ = await effect_counts(pipeline.consumer)
                return applied >= EVENTS * kill // (KILLS + 1)

            await eventually(progressed, within_seconds=120)
            private_nats.kill()
            await asyncio.sleep(0.5)  # writes keep being accepted while the broker is down
            private_nats.start()
        await writer

        async def all_applied():
            return (await effect_counts(pipeline.consumer))[0] == EVENTS

        await eventually(all_applied, within_seconds=180)
        assert await effect_counts(pipeline.consumer) == (EVENTS, EVENTS)
        assert await unpublished(pipeline.producer) == 0
