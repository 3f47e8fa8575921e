"""Consent answers recorded many at a time (a DMS batch's): the current answers read in one
query, each changed answer appended to the history, made current and announced, in a
statement per table. Repeating the current answer to the same notice changes nothing."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.repository.imports import ImportRepository
from services.profile.schemas import ConsentAnswer, ImportCounts
from shared.contracts.profile import ConsentChanged
from shared.messaging.envelope import Envelope


async def record_answers(
    session: AsyncSession,
    answers: Sequence[tuple[uuid.UUID, ConsentAnswer]],
    *,
    recorded_by: str,
    now: datetime,
) -> tuple[ImportCounts, list[Envelope]]:
    """(owner, answer) pairs, in order; the counts and the events to record."""
    repository = ImportRepository(session)
    current = await repository.current_consents({owner_id for owner_id, _ in answers})
    counts = ImportCounts()
    history, events = [], []
    for owner_id, answer in answers:
        key = (owner_id, answer.purpose, answer.channel)
        before = current.get(key)
        if before == (answer.granted, answer.notice_version):
            counts.unchanged += 1
            continue
        counts.created += before is None
        counts.updated += before is not None
        current[key] = (answer.granted, answer.notice_version)
        values = {"owner_id": owner_id, **answer.model_dump(include=ANSWER_FIELDS),
                  "changed_at": now}  # fmt: skip
        history.append({"id": uuid.uuid4(), **values, "recorded_by": recorded_by})
        events.append(
            Envelope.wrap(ConsentChanged(**values), subject=str(owner_id), owner_id=owner_id)
        )
    await repository.record_consents(history)
    return counts, events


ANSWER_FIELDS = {"purpose", "channel", "granted", "notice_version", "source"}
