"""A handler slower than the ack wait, and a consumer stalled at its pending-ack limit."""

import asyncio

from prometheus_client import REGISTRY, generate_latest

from shared.messaging.envelope import stream_name
from tests.helpers import eventually
from tests.messaging.harness import (
    PRODUCER,
    ConsumerSettings,
    Pipeline,
    apply_effect,
    effect_counts,
    produce,
    running_pipeline,
)


async def test_a_handler_slower_than_the_ack_wait_keeps_its_message(settings, private_nats):
    async def slow_handler(session, envelope, event) -> None:
        await asyncio.sleep(3.0)  # three ack waits
        await apply_effect(session, envelope, event)

    one_second_ack_wait = ConsumerSettings(ack_wait_seconds=1.0, backoff_seconds=(0.1,))
    pipeline = await running_pipeline(
        settings, private_nats.url, handler=slow_handler, consumer_settings=one_second_ack_wait
    )
    async with pipeline:
        await produce(pipeline.producer, range(2))

        async def both_applied():
            return (await effect_counts(pipeline.consumer))[0] == 2

        await eventually(both_applied)
        info = await pipeline.consumer_nats.jetstream().consumer_info(
            stream_name(PRODUCER), pipeline.durable
        )
        # Without in-progress acks the broker would have redelivered each one twice.
        assert (info.num_redelivered, info.num_ack_pending) == (0, 0)
        assert pipeline.handled("duplicate") == 0
        assert await effect_counts(pipeline.consumer) == (2, 2)


async def test_a_stalled_consumer_shows_in_the_metrics(settings, private_nats):
    unblocked = asyncio.Event()

    async def stuck_handler(session, envelope, event) -> None:
        await unblocked.wait()  # a dependency that hangs
        await apply_effect(session, envelope, event)

    stall_at_four = ConsumerSettings(max_ack_pending=4, metrics_interval_seconds=0.2)
    pipeline = Pipeline(
        settings, private_nats.url, handler=stuck_handler, consumer_settings=stall_at_four
    )
    async with pipeline:
        # All ten in the stream before the consumer's first fetch: a fetch that found fewer
        # than four would hang in the handler with fewer pending, and never reach the limit.
        await produce(pipeline.producer, range(10))
        await pipeline.relay().publish_pending()
        pipeline.start_consumer()

        def gauge(name: str) -> float | None:
            return REGISTRY.get_sample_value(name, {"consumer": pipeline.durable})

        async def stalled():
            return (
                gauge("cem_consumer_ack_pending") == 4
                and gauge("cem_consumer_ack_pending_limit") == 4
                and gauge("cem_consumer_lag") == 6
            )

        await eventually(stalled, within_seconds=90)
        exposed = generate_latest().decode()
        assert f'cem_consumer_ack_pending{{consumer="{pipeline.durable}"}} 4.0' in exposed

        unblocked.set()

        async def caught_up():
            # The gauges are sampled from NATS between fetches: wait for a sample taken after
            # the last one (one with nothing left pending), not only for the effects.
            applied = (await effect_counts(pipeline.consumer))[0]
            return (
                applied == 10
                and gauge("cem_consumer_ack_pending") == 0
                and (gauge("cem_consumer_lag") == 0)
            )

        await eventually(caught_up, within_seconds=90)
        assert gauge("cem_consumer_lag") == 0
