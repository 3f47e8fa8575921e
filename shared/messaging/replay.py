"""Sending stored events again: dead letters once their cause is fixed, or a span of the
outbox for a consumer that lost its state.

Both send each envelope exactly as stored, its event id included, so every consumer's
inbox absorbs what it has already handled: a replay can only fill gaps, never double an
effect.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from pydantic import ValidationError
from sqlalchemy import text

from shared.database import Database
from shared.messaging.envelope import Envelope
from shared.messaging.housekeeping import INBOX_RETENTION_SECONDS
from shared.messaging.outbox import publish_row

REPLAY_BATCH = 500

_DEAD_LETTERS = text(
    "SELECT id, consumer, subject, event_id, reason, deliveries, failed_at, replayed_at "
    "FROM dead_letters WHERE (:everything OR replayed_at IS NULL) ORDER BY id"
)
_CLAIM_DEAD_LETTERS = text(
    "SELECT id, subject, event_id, payload AS envelope FROM dead_letters "
    "WHERE replayed_at IS NULL AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(:ids)) "
    "ORDER BY id FOR UPDATE SKIP LOCKED"
)
_MARK_REPLAYED = text("UPDATE dead_letters SET replayed_at = now() WHERE id = ANY(:ids)")
_PUBLISHED_SINCE = text(
    "SELECT seq, id, subject, envelope::text AS envelope FROM outbox "
    "WHERE published_at IS NOT NULL AND created_at >= :since AND seq > :after "
    "ORDER BY seq LIMIT :limit"
)


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    subject: str
    event_id: str | None
    reason: str
    deliveries: int
    failed_at: datetime
    replayed_at: datetime | None


async def list_dead_letters(
    database: Database, *, include_replayed: bool = False
) -> list[DeadLetter]:
    async with database.transaction() as session:
        rows = await session.execute(_DEAD_LETTERS, {"everything": include_replayed})
        return [DeadLetter(**row._mapping) for row in rows]


@dataclass(frozen=True)
class DeadLetterReplay:
    replayed: list[int]
    # Events older than the inbox retention: consumers that handled them may have forgotten
    # their ids, so a replay could apply them twice there. Left for a person to judge.
    too_old: list[int]


async def replay_dead_letters(
    database: Database, jetstream: JetStreamContext, *, ids: list[int] | None = None
) -> DeadLetterReplay:
    """Republishes the chosen (default: every) unreplayed dead letter and marks it replayed.
    Every consumer of the subject receives it again; those that handled it drop it by its
    event id in their inbox."""
    async with database.transaction() as session:
        rows = (await session.execute(_CLAIM_DEAD_LETTERS, {"ids": ids})).all()
        oldest_remembered = datetime.now(UTC) - timedelta(seconds=INBOX_RETENTION_SECONDS)
        too_old, fresh = [], []
        for row in rows:
            (too_old if _sent_before(row, oldest_remembered) else fresh).append(row)
        # Not the event id as the broker's de-duplication key: the original delivery may be
        # inside the duplicate window, and the broker would silently drop the replay.
        await asyncio.gather(
            *(
                publish_row(jetstream, row, message_id=f"{row.event_id}.replay.{row.id}")
                for row in fresh
            )
        )
        replayed = [row.id for row in fresh]
        await session.execute(_MARK_REPLAYED, {"ids": replayed})
    return DeadLetterReplay(replayed, [row.id for row in too_old])


def _sent_before(row, moment: datetime) -> bool:
    try:
        return Envelope.model_validate_json(row.envelope).time < moment
    except ValidationError:
        return False  # undecodable: no consumer can have handled it


async def replay_outbox(database: Database, jetstream: JetStreamContext, *, since: datetime) -> int:
    """Republishes every published event recorded since `since`, in order, with its own id;
    returns how many. Unpublished events are left to the relay. The outbox keeps events for
    less time than inboxes keep ids, so every consumer still recognises what it handled."""
    replayed, after = 0, 0
    while True:
        async with database.transaction() as session:
            rows = (
                await session.execute(
                    _PUBLISHED_SINCE, {"since": since, "after": after, "limit": REPLAY_BATCH}
                )
            ).all()
        if not rows:
            return replayed
        await asyncio.gather(*(publish_row(jetstream, row) for row in rows))
        replayed += len(rows)
        after = rows[-1].seq
