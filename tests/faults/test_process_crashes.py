"""A consumer or a relay dies at the worst moment; the next one starts where it left off."""

import asyncio
import uuid
from functools import partial

import pytest

from shared.messaging.consumer import EventConsumer
from shared.messaging.envelope import stream_name
from shared.messaging.outbox import OutboxRelay
from tests.helpers import eventually
from tests.messaging.harness import (
    PRODUCER,
    ConsumerSettings,
    Pipeline,
    apply_effect,
    effect_counts,
    produce,
    scalar,
    shorten_duplicate_window,
    unpublished,
)


class FakeSmsSender:
    """The outside world: counts the texts an owner would receive."""

    def __init__(self) -> None:
        self.sent: list[tuple[uuid.UUID, str]] = []

    async def send(self, event_id: uuid.UUID, text: str) -> None:
        self.sent.append((event_id, text))


async def test_a_consumer_killed_after_commit_before_ack_sends_one_sms(settings, private_nats):
    sms = FakeSmsSender()

    async def remind_owner(session, envelope, event) -> None:
        await apply_effect(session, envelope, event)
        await sms.send(envelope.id, f"Your service is due ({event.number})")

    committed = asyncio.Event()

    class DiesBeforeAck(EventConsumer):
        async def process(self, subscription, message) -> None:
            async def die_instead_of_acking() -> None:
                committed.set()
                await asyncio.Event().wait()  # hangs until the test kills the process

            message.ack = die_instead_of_acking
            await super().process(subscription, message)

    fast_redelivery = ConsumerSettings(ack_wait_seconds=1.0, backoff_seconds=(0.1,))
    pipeline = Pipeline(settings, private_nats.url, remind_owner, fast_redelivery)
    async with pipeline:
        pipeline.start_relay()
        doomed = pipeline.start_consumer(DiesBeforeAck)
        await produce(pipeline.producer, range(1))
        await asyncio.wait_for(committed.wait(), 30)
        doomed.cancel()
        await asyncio.gather(doomed, return_exceptions=True)
        assert await effect_counts(pipeline.consumer) == (1, 1)

        pipeline.start_consumer()  # the restarted process gets the unacknowledged event again

        async def redelivery_absorbed():
            return pipeline.handled("duplicate") == 1

        await eventually(redelivery_absorbed, within_seconds=30)
        await produce(pipeline.producer, range(1, 2))

        async def next_one_handled():
            return len(sms.sent) == 2

        await eventually(next_one_handled)
        assert [text for _, text in sms.sent] == [
            "Your service is due (0)",
            "Your service is due (1)",
        ]
        assert await effect_counts(pipeline.consumer) == (2, 2)


async def test_a_consumer_killed_after_a_shared_commit_before_its_acks_sends_each_sms_once(
    settings, private_nats
):
    sms = FakeSmsSender()
    events = 40

    async def remind_owner(session, envelope, event) -> None:
        await apply_effect(session, envelope, event)
        await sms.send(envelope.id, f"Your service is due ({event.number})")

    committed = asyncio.Event()

    class DiesBeforeAcks(EventConsumer):
        async def acknowledge(self, consumer, handled) -> None:
            committed.set()
            await asyncio.Event().wait()  # hangs until the test kills the process

    fast_redelivery = ConsumerSettings(ack_wait_seconds=1.0, backoff_seconds=(0.1,))
    pipeline = Pipeline(settings, private_nats.url, remind_owner, fast_redelivery)
    async with pipeline:
        await produce(pipeline.producer, range(events))
        await pipeline.relay().publish_pending()  # all in the stream: one fetch takes them
        doomed = pipeline.start_consumer(DiesBeforeAcks)
        await asyncio.wait_for(committed.wait(), 30)
        doomed.cancel()
        await asyncio.gather(doomed, return_exceptions=True)
        applied, _ = await effect_counts(pipeline.consumer)
        assert applied > 1  # several events committed together, none acked

        pipeline.start_consumer()

        async def all_applied_and_redeliveries_absorbed():
            counts = await effect_counts(pipeline.consumer)
            return counts[0] == events and pipeline.handled("duplicate") == applied

        await eventually(all_applied_and_redeliveries_absorbed, within_seconds=30)
        assert len(sms.sent) == events
        assert len({event_id for event_id, _ in sms.sent}) == events
        assert await effect_counts(pipeline.consumer) == (events, events)


class RelayKilled(Exception):
    """The relay process dies: after the broker acknowledged, before the rows are marked."""


class DiesAfterBrokerAck(OutboxRelay):
    def __init__(self, *, events: int, **options) -> None:
        super().__init__(**options)
        self.events = events
        self.acknowledged = 0

    async def _publish(self, row) -> None:
        await super()._publish(row)
        self.acknowledged += 1
        if self.acknowledged == self.events:
            raise RelayKilled  # the transaction that would mark them rolls back


@pytest.mark.parametrize("restart", ["inside_duplicate_window", "after_duplicate_window"])
async def test_a_relay_killed_between_broker_ack_and_marking_leaves_effects_single(
    settings, private_nats, restart
):
    events = 50
    async with Pipeline(settings, private_nats.url) as pipeline:
        if restart == "after_duplicate_window":
            await shorten_duplicate_window(pipeline.producer_nats, 1.0)
        pipeline.start_consumer()
        await produce(pipeline.producer, range(events))
        doomed = pipeline.relay(partial(DiesAfterBrokerAck, events=events))
        with pytest.raises(RelayKilled):
            await doomed.publish_pending()
        assert doomed.acknowledged == events
        assert await unpublished(pipeline.producer) == events
        if restart == "after_duplicate_window":
            await asyncio.sleep(1.5)
        await pipeline.relay().publish_pending()

        async def all_applied():
            return (await effect_counts(pipeline.consumer))[0] == events

        await eventually(all_applied)
        stream = await pipeline.producer_nats.jetstream().stream_info(stream_name(PRODUCER))
        if restart == "inside_duplicate_window":
            # The broker drops the second copies by their Nats-Msg-Id.
            assert stream.state.messages == events
        else:
            # The broker has forgotten them: the inbox, the second line of defence, drops them.
            assert stream.state.messages == 2 * events

            async def duplicates_absorbed():
                return pipeline.handled("duplicate") == events

            await eventually(duplicates_absorbed)
        assert await effect_counts(pipeline.consumer) == (events, events)
        assert await unpublished(pipeline.producer) == 0
        assert await scalar(pipeline.consumer, "SELECT count(*) FROM inbox") == events
