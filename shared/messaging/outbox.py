"""Transactional outbox: events are rows written with the change, published by a relay.

`record_event()` adds the row inside the caller's transaction, so an event exists if and
only if its change committed. `OutboxRelay` publishes unpublished rows in order with
`Nats-Msg-Id` = event id (JetStream drops duplicates inside its window; consumers' inboxes
drop the rest) and marks them published in the same transaction that selected them.
"""

import asyncio
import json
import uuid
from collections.abc import Sequence

import structlog
from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.database import EVENTS_WRITTEN, Database, before_commit
from shared.messaging.envelope import Envelope, Event

log = structlog.get_logger("outbox")

EVENTS_PUBLISHED = Counter("cem_outbox_published_total", "Events published", ["service"])
OUTBOX_BACKLOG = Gauge("cem_outbox_backlog", "Unpublished outbox rows at last pass", ["service"])

_INSERT = text(
    "INSERT INTO outbox (id, subject, envelope) VALUES (:id, :subject, CAST(:envelope AS jsonb))"
)
_CLAIM = text(
    "SELECT seq, id, subject, envelope::text AS envelope FROM outbox "
    "WHERE published_at IS NULL ORDER BY seq LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_MARK = text("UPDATE outbox SET published_at = now() WHERE seq = ANY(:seqs)")
_BACKLOG = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")


async def record_event(
    session: AsyncSession,
    event: Event,
    *,
    subject: str | uuid.UUID | None = None,
    dealer_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Envelope:
    envelope = Envelope.wrap(
        event,
        subject=str(subject) if subject is not None else None,
        dealer_id=dealer_id,
        owner_id=owner_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    await record_envelopes(session, [envelope])
    return envelope


def record_event_at_commit(
    session: AsyncSession,
    event: Event,
    *,
    subject: str | uuid.UUID | None = None,
    dealer_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> Envelope:
    """`record_event` for work that announces many facts in one transaction (a vehicle's
    derived trips): the events are written in their order, in one statement, just before
    the transaction commits."""
    envelope = Envelope.wrap(
        event,
        subject=str(subject) if subject is not None else None,
        dealer_id=dealer_id,
        owner_id=owner_id,
    )
    session.info.setdefault(_AT_COMMIT, []).append(envelope)
    before_commit(session, _AT_COMMIT, _record_at_commit)
    return envelope


_AT_COMMIT = "cem_events_at_commit"


async def _record_at_commit(session: AsyncSession) -> None:
    await record_envelopes(session, session.info.pop(_AT_COMMIT))


async def record_envelopes(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Writes events already wrapped, in their order, in one round trip (a batch's events)."""
    if not envelopes:
        return
    await session.execute(
        _INSERT,
        [
            {"id": envelope.id, "subject": envelope.type, "envelope": envelope.model_dump_json()}
            for envelope in envelopes
        ],
    )
    session.info[EVENTS_WRITTEN] = True


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        database: Database,
        jetstream: JetStreamContext,
        interval_seconds: float = 1.0,
        batch_size: int = 200,
    ) -> None:
        self.service = service
        self.database = database
        self.jetstream = jetstream
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self._wake = asyncio.Event()
        self._stopping = False
        database.on_events_committed(self._wake.set)

    def stop(self) -> None:
        """Asks `run()` to publish what is committed once more and return."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Publishes until stopped (after a last pass) or cancelled; failures (broker or
        database down) are retried."""
        failures = 0
        while True:
            stopping = self._stopping  # read before the pass, so the last pass comes after
            try:
                await self.publish_pending()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                log.warning("outbox_relay_failed", service=self.service, error=repr(error))
                await self._pause(min(0.2 * 2**failures, 5.0))
                continue
            if stopping:
                return
            await self._pause(self.interval_seconds)

    async def _pause(self, seconds: float) -> None:
        """Until `seconds` pass, a commit writes events, or `stop()` is called."""
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def publish_pending(self) -> int:
        """Publishes every unpublished row; returns how many it published."""
        published = 0
        while batch_published := await self._publish_batch():
            published += batch_published
        async with self.database.transaction() as session:
            OUTBOX_BACKLOG.labels(self.service).set(await session.scalar(_BACKLOG) or 0)
        return published

    async def _publish_batch(self) -> int:
        async with self.database.transaction() as session:
            rows = (await session.execute(_CLAIM, {"limit": self.batch_size})).all()
            if not rows:
                return 0
            # Publishes are pipelined on one connection, so the stream keeps their order.
            await asyncio.gather(*(self._publish(row) for row in rows))
            await session.execute(_MARK, {"seqs": [row.seq for row in rows]})
        EVENTS_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _publish(self, row) -> None:
        await publish_row(self.jetstream, row)


async def publish_row(jetstream: JetStreamContext, row, *, message_id: str | None = None) -> None:
    """Publishes an outbox (or dead-letter) row's envelope as stored; the broker drops a
    repeat of `message_id` (by default the event id) inside its duplicate window."""
    envelope = row.envelope if isinstance(row.envelope, str) else json.dumps(row.envelope)
    await jetstream.publish(
        row.subject,
        envelope.encode(),
        headers={"Nats-Msg-Id": message_id or str(row.id)},
        timeout=5,
    )
