"""The inbox: which events a consumer has handled, claimed in the transaction that applies
them, so that an event delivered again (a redelivery, a replay) changes nothing twice."""

import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_CLAIM = text(
    "INSERT INTO inbox (consumer, event_id) VALUES (:consumer, :event_id) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)
# A fetch's events claimed in one statement (one each cost a round trip apiece, about a
# tenth of a consumer's CPU); claims a stop leaves unhandled are let go before the commit.
_CLAIM_ALL = text(
    "INSERT INTO inbox (consumer, event_id) SELECT :consumer, unnest(CAST(:event_ids AS uuid[])) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)
_RELEASE = text(
    "DELETE FROM inbox WHERE consumer = :consumer AND event_id = ANY(CAST(:event_ids AS uuid[]))"
)


async def claim(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    """Whether the event is new to the consumer (and now claimed)."""
    claimed = await session.scalar(_CLAIM, {"consumer": consumer, "event_id": event_id})
    return claimed is not None


async def claim_all(
    session: AsyncSession, consumer: str, event_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Claims many events at once; those new to the consumer (an id twice is claimed once)."""
    ids = list(dict.fromkeys(event_ids))
    claimed = await session.scalars(_CLAIM_ALL, {"consumer": consumer, "event_ids": ids})
    return set(claimed)


async def release(session: AsyncSession, consumer: str, event_ids: set[uuid.UUID]) -> None:
    """Lets go of claims left unhandled: committed, they would read as handled."""
    if event_ids:
        await session.execute(_RELEASE, {"consumer": consumer, "event_ids": list(event_ids)})
