"""Durable pull consumers with an inbox: every event's effect is applied exactly once.

For each delivery: the inbox row and the handler's effect commit in one transaction, then
the message is acked. A redelivery of a handled event finds its inbox row and is only
acked. The events of one fetch share that transaction, in order (one commit for the lot,
where a backlog spent most of its time); should any of them fail, or wait long on a row
lock (the shared transaction must not hold up requests, nor deadlock with them), it rolls
back and each is taken again in a transaction of its own, where a failure meets only its
own event. A transient failure is nak'ed with back-off; an undecodable message, or one that
keeps failing up to `max_deliver`, is recorded in `dead_letters` and terminated. While the
database is down nothing counts towards `max_deliver`: an outage must not bury events in
the dead letters (or, were the broker to give up, lose them). A handler slower than the
ack wait keeps its message with in-progress acks, and each consumer's lag and pending acks
are sampled into Prometheus gauges. Asked to stop, each loop finishes the event in hand
(committing those of its fetch already handled), hands the rest back to the broker (nak:
redelivered at once, not after the ack wait) and returns.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.database import Database
from shared.messaging import inbox
from shared.messaging.consumer_metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_ACK_PENDING_LIMIT,
    CONSUMER_LAG,
    CONSUMER_REDELIVERED,
    EVENTS_HANDLED,
)
from shared.messaging.envelope import Envelope, Event, stream_name

log = structlog.get_logger("consumer")

DATABASE_POLL_SECONDS = 0.5

Handler = Callable[[AsyncSession, Envelope, Event], Awaitable[None]]

# In a transaction's session info: the events it handles (see `fetched_events`).
FETCHED = "cem_fetched_events"
# Waits no longer for a row lock than this, so that in a deadlock with a request (which
# PostgreSQL breaks only after `deadlock_timeout`, 1 s) the shared transaction gives way.
_GIVE_WAY = text("SELECT set_config('lock_timeout', :timeout, true)")
_DEAD_LETTER = text(
    "INSERT INTO dead_letters (consumer, subject, event_id, payload, reason, deliveries) "
    "VALUES (:consumer, :subject, :event_id, :payload, :reason, :deliveries)"
)


@dataclass(frozen=True)
class Subscription:
    """One handler for one event contract; `name` makes the durable consumer name."""

    name: str
    contract: type[Event]
    handle: Handler


class PoisonMessage(Exception):
    """A handler's verdict that retrying this event can never succeed."""


@dataclass
class ConsumerSettings:
    batch: int = 50
    max_deliver: int = 5
    ack_wait_seconds: float = 30.0
    backoff_seconds: tuple[float, ...] = (0.5, 2.0, 10.0, 30.0)
    max_ack_pending: int = 1000
    metrics_interval_seconds: float = 5.0
    # A fetch's shared transaction that waits this long for a lock is rolled back and its
    # events are taken one by one: it holds many rows' locks, and must not hold up requests.
    shared_lock_timeout_ms: int = 200

    @property
    def heartbeat_seconds(self) -> float:
        return self.ack_wait_seconds / 3


class EventConsumer:
    """Runs one pull loop per subscription of one consuming service."""

    def __init__(
        self,
        *,
        service: str,
        database: Database,
        client: Client,
        subscriptions: list[Subscription],
        settings: ConsumerSettings | None = None,
    ) -> None:
        self.service = service
        self.database = database
        self.client = client
        self.subscriptions = subscriptions
        self.settings = settings or ConsumerSettings()
        self._database_down = False
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Asks `run()` to finish the events in hand and return."""
        self._stopping.set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for subscription in self.subscriptions:
                group.create_task(self._run_forever(subscription))
                group.create_task(self._sample_forever(subscription))

    def durable_name(self, subscription: Subscription) -> str:
        return f"{self.service}_{subscription.name}"

    async def _run_forever(self, subscription: Subscription) -> None:
        failures = 0
        while not self._stopping.is_set():
            _raise_if_cancelled()
            try:
                await self._pull(subscription)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                consumer = self.durable_name(subscription)
                if isinstance(error, NotFoundError) and failures <= 8:  # about 30 s
                    # Its producer creates it on its first start, maybe after this one.
                    if failures == 1:
                        stream = stream_name(subscription.contract.event_type.service)
                        log.info("stream_not_found", consumer=consumer, stream=stream)
                else:
                    log.warning("consumer_loop_failed", consumer=consumer, error=repr(error))
                await self._pause(min(0.2 * 2**failures, 5.0))

    async def _pause(self, seconds: float) -> None:
        """Sleeps `seconds`, or less if asked to stop meanwhile."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def consumer_config(self, subscription: Subscription) -> ConsumerConfig:
        durable = self.durable_name(subscription)
        return ConsumerConfig(
            name=durable,
            durable_name=durable,
            filter_subject=subscription.contract.event_type.subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.settings.ack_wait_seconds,
            # The broker never gives up on an event: `process` decides when one is dead,
            # and an event whose dead-lettering failed must come back.
            max_deliver=-1,
            max_ack_pending=self.settings.max_ack_pending,
        )

    async def _pull(self, subscription: Subscription) -> None:
        stream = stream_name(subscription.contract.event_type.service)
        config = self.consumer_config(subscription)
        jetstream = self.client.jetstream()
        # Create or update: a durable declared by an older release takes the current config.
        await jetstream.add_consumer(stream, config=config)
        pull = await jetstream.pull_subscribe_bind(durable=config.durable_name, stream=stream)
        while not self._stopping.is_set():
            _raise_if_cancelled()
            await self._wait_for_database()
            try:
                messages = await pull.fetch(self.settings.batch, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            unfinished = list(messages)
            async with self._in_progress(unfinished):
                if len(unfinished) > 1:
                    await self._process_together(subscription, unfinished)
                while unfinished and not self._stopping.is_set():
                    await self.process(subscription, unfinished[0])
                    unfinished.pop(0)
            for message in unfinished:  # stopping: another replica, or the next start, has them
                with suppress(Exception):
                    await message.nak()

    async def _process_together(self, subscription: Subscription, unfinished: list[Msg]) -> None:
        """Handles the fetched events in one transaction, in order, and removes from
        `unfinished` those it committed and acked. On any failure it commits none: they stay
        for `process`, one at a time. Asked to stop, it commits those handled so far."""
        consumer = self.durable_name(subscription)
        try:
            events = [_decoded(message, subscription.contract) for message in unfinished]
        except ValidationError:
            return  # `process` dead-letters the undecodable one
        handled: list[tuple[Msg, bool]] = []
        try:
            async with self.database.transaction() as session:
                await session.execute(
                    _GIVE_WAY, {"timeout": f"{self.settings.shared_lock_timeout_ms}ms"}
                )
                session.info[FETCHED] = [payload for _, payload in events]
                to_handle = await inbox.claim_all(session, consumer, [e.id for e, _ in events])
                for message, (envelope, payload) in zip(unfinished, events, strict=True):
                    if self._stopping.is_set():
                        await inbox.release(session, consumer, to_handle)
                        break
                    claimed = envelope.id in to_handle
                    if claimed:
                        to_handle.remove(envelope.id)
                        await subscription.handle(session, envelope, payload)
                    handled.append((message, claimed))
                    # The next event finds nothing of this one's in the session but its rows,
                    # as it would in a transaction of its own.
                    await session.flush()
                    session.expunge_all()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.info("shared_transaction_failed", consumer=consumer, error=repr(error))
            return
        await self.acknowledge(consumer, handled)
        del unfinished[: len(handled)]

    async def acknowledge(self, consumer: str, handled: list[tuple[Msg, bool]]) -> None:
        """Acks committed events; `claimed` False marks one found already handled."""
        for message, claimed in handled:
            await message.ack()
            EVENTS_HANDLED.labels(consumer, "handled" if claimed else "duplicate").inc()

    async def process(self, subscription: Subscription, message: Msg) -> None:
        consumer = self.durable_name(subscription)
        deliveries = message.metadata.num_delivered
        try:
            envelope, payload = _decoded(message, subscription.contract)
        except ValidationError as error:
            await self._dead_letter(consumer, message, f"undecodable: {error}", deliveries)
            return
        try:
            claimed = await self._apply(subscription, consumer, envelope, payload)
        except PoisonMessage as error:
            await self._dead_letter(consumer, message, f"rejected: {error}", deliveries)
            return
        except Exception as error:
            await self._retry_or_bury(consumer, message, envelope, error)
            return
        await self.acknowledge(consumer, [(message, claimed)])

    async def _apply(
        self, subscription: Subscription, consumer: str, envelope: Envelope, payload: Event
    ) -> bool:
        """The inbox claim and the effect in a transaction of their own."""
        async with self.database.transaction() as session:
            session.info[FETCHED] = [payload]
            return await _claim_and_handle(session, subscription, consumer, envelope, payload)

    async def _retry_or_bury(
        self, consumer: str, message: Msg, envelope: Envelope, error: Exception
    ) -> None:
        deliveries = message.metadata.num_delivered
        database_up = await self.database.is_ready()
        self._database_down = not database_up
        if database_up and deliveries >= self.settings.max_deliver:
            await self._dead_letter(consumer, message, f"failed: {error!r}", deliveries)
            return
        backoff = self.settings.backoff_seconds
        # An outage is not the event's fault: it comes back soon after the database does.
        delay = backoff[min(deliveries - 1, len(backoff) - 1)] if database_up else backoff[0]
        log.warning(
            "event_retry",
            consumer=consumer,
            event_id=str(envelope.id),
            deliveries=deliveries,
            database_up=database_up,
            error=repr(error),
        )
        EVENTS_HANDLED.labels(consumer, "retried").inc()
        await message.nak(delay=delay)

    async def _wait_for_database(self) -> None:
        """While the database is down, fetching would only bounce events back and forth."""
        while self._database_down and not self._stopping.is_set():
            _raise_if_cancelled()
            await self._pause(DATABASE_POLL_SECONDS)
            self._database_down = not await self.database.is_ready()

    @asynccontextmanager
    async def _in_progress(self, unfinished: list[Msg]) -> AsyncIterator[None]:
        """Tells the broker, every third of the ack wait, that the fetched messages not yet
        finished (the one being handled and those queued behind it) are still in hand, so
        a slow handler neither loses its message nor has the queued ones redelivered."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.settings.heartbeat_seconds)
                for message in list(unfinished):
                    try:
                        await message.in_progress()
                    except Exception as error:
                        log.warning("in_progress_ack_failed", error=repr(error))

        heartbeat = asyncio.create_task(beat())
        try:
            yield
        finally:
            heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await heartbeat

    async def _sample_forever(self, subscription: Subscription) -> None:
        """Keeps the lag and pending gauges current, also while the handler is stuck."""
        durable = self.durable_name(subscription)
        stream = stream_name(subscription.contract.event_type.service)
        while not self._stopping.is_set():
            try:
                info = await self.client.jetstream().consumer_info(stream, durable)
            except asyncio.CancelledError:
                raise
            except Exception:
                pass  # not declared yet, or the broker is away: the last figures stand
            else:
                CONSUMER_LAG.labels(durable).set(info.num_pending or 0)
                CONSUMER_ACK_PENDING.labels(durable).set(info.num_ack_pending or 0)
                CONSUMER_ACK_PENDING_LIMIT.labels(durable).set(info.config.max_ack_pending or 0)
                CONSUMER_REDELIVERED.labels(durable).set(info.num_redelivered or 0)
            _raise_if_cancelled()
            await self._pause(self.settings.metrics_interval_seconds)

    async def _dead_letter(self, consumer: str, message: Msg, reason: str, deliveries: int) -> None:
        event_id = _event_id(message)
        log.error("event_dead_lettered", consumer=consumer, event_id=event_id, reason=reason)
        async with self.database.transaction() as session:
            await session.execute(
                _DEAD_LETTER,
                {
                    "consumer": consumer,
                    "subject": message.subject,
                    "event_id": event_id,
                    "payload": message.data.decode("utf-8", errors="replace"),
                    "reason": reason[:2000],
                    "deliveries": deliveries,
                },
            )
        await message.term()
        EVENTS_HANDLED.labels(consumer, "dead_lettered").inc()


async def _claim_and_handle(
    session: AsyncSession,
    subscription: Subscription,
    consumer: str,
    envelope: Envelope,
    payload: Event,
) -> bool:
    """Claims the event in the inbox and applies its effect; False for a handled event."""
    if not await inbox.claim(session, consumer, envelope.id):
        return False
    await subscription.handle(session, envelope, payload)
    return True


def fetched_events(session: AsyncSession) -> list[Event]:
    """The events handled in this transaction (a fetch's, or one alone): what each of them
    looks up can be looked up for all of them at once."""
    return session.info.get(FETCHED, [])


def _decoded(message: Msg, contract: type[Event]) -> tuple[Envelope, Event]:
    envelope = Envelope.model_validate_json(message.data)
    return envelope, envelope.payload(contract)


def _raise_if_cancelled() -> None:
    """nats-py's requests (fetch, consumer_info) can swallow a cancellation (Python 3.11's
    wait_for race with a reply arriving at the same moment); every loop checks, or shutdown
    would hang."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _event_id(message: Msg) -> str | None:
    header = (message.headers or {}).get("Nats-Msg-Id")
    if header:
        return header
    try:
        return str(Envelope.model_validate_json(message.data).id)
    except ValidationError:
        return None
