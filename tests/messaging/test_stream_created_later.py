"""A consumer that starts before its producer has created the stream (the platform's first
start) waits for it, then consumes from the beginning."""

import asyncio

from shared.messaging.broker import ensure_stream
from shared.messaging.envelope import stream_name
from tests.helpers import eventually
from tests.messaging.harness import PRODUCER, Pipeline, effect_counts, produce


async def test_a_consumer_waits_for_a_stream_not_created_yet(infrastructure):
    async with Pipeline(infrastructure.settings(), infrastructure.nats_url) as pipeline:
        await pipeline.producer_nats.jetstream().delete_stream(stream_name(PRODUCER))
        pipeline.start_consumer()
        await asyncio.sleep(1.0)  # it looks for the stream, finds none, and tries again

        await ensure_stream(pipeline.producer_nats, PRODUCER)
        await produce(pipeline.producer, range(3))
        pipeline.start_relay()

        async def applied() -> bool:
            return await effect_counts(pipeline.consumer) == (3, 3)

        await eventually(applied)
