"""Durable consumers declared by an earlier release take the current configuration."""

from nats.js.api import AckPolicy, ConsumerConfig

from shared.messaging.envelope import stream_name
from tests.helpers import eventually
from tests.messaging.harness import PRODUCER, Pipeline


async def test_an_existing_durable_is_updated_so_the_broker_never_gives_up(
    infrastructure, private_nats
):
    async with Pipeline(infrastructure.settings(), private_nats.url) as pipeline:
        stream = stream_name(PRODUCER)
        jetstream = pipeline.consumer_nats.jetstream()
        old = ConsumerConfig(
            durable_name=pipeline.durable,
            filter_subject="cem.msgtest.thing.happened.v1",
            ack_policy=AckPolicy.EXPLICIT,
            max_deliver=5,
            max_ack_pending=1000,
        )
        await jetstream.add_consumer(stream, config=old)
        pipeline.start_consumer()

        async def updated():
            info = await jetstream.consumer_info(stream, pipeline.durable)
            return info.config.max_deliver == -1

        await eventually(updated, within_seconds=10)
