"""Keeps the messaging tables small: published events and old inbox keys are pruned.

Published outbox rows are kept for a week so an hour (or a day) of events can be
replayed; inbox keys outlive the stream's retention, after which no redelivery can come.
"""

import asyncio

import structlog
from sqlalchemy import text

from shared.database import Database
from shared.messaging.broker import STREAM_MAX_AGE_SECONDS

log = structlog.get_logger("housekeeping")

OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600
INBOX_RETENTION_SECONDS = STREAM_MAX_AGE_SECONDS + 24 * 3600

_PRUNE_OUTBOX = text(
    "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => :seconds)"
)
_PRUNE_INBOX = text("DELETE FROM inbox WHERE handled_at < now() - make_interval(secs => :seconds)")


async def prune(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(_PRUNE_OUTBOX, {"seconds": OUTBOX_RETENTION_SECONDS})
        await session.execute(_PRUNE_INBOX, {"seconds": INBOX_RETENTION_SECONDS})


async def prune_forever(database: Database, *, every_seconds: float = 3600.0) -> None:
    while True:
        try:
            await prune(database)
        except Exception as error:
            log.warning("prune_failed", error=repr(error))
        await asyncio.sleep(every_seconds)
