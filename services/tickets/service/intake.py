"""Cases opened by events: a flagged complaint, a detractor answer (the closed loop).

Opening is idempotent per source (`feedback.post:<id>`, `feedback.response:<id>`): the
same source event, delivered twice or published twice, never opens two cases.
"""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import Channel, Priority, TicketKind, TicketStatus
from services.tickets.models import Ticket
from services.tickets.repository import TicketsRepository
from services.tickets.service.access import Actor
from services.tickets.service.cases import CaseDraft, open_case
from services.tickets.service.history import note
from services.tickets.service.workflow import move
from shared.contracts.feedback import DetractorDetected, PostFlagged

FEEDBACK = Actor("system", "feedback")
# Flags that mean an owner has a problem to solve (not abuse or spam, which moderation handles).
OPENING_FLAGS = frozenset({"complaint", "safety"})
# NPS answers this low (or CSAT 1) are urgent enough for a high-priority case.
_HIGH_PRIORITY_SCORE = {"nps": 3, "csat": 1}


def _priority(value: str) -> Priority:
    return Priority(value) if value in Priority.__members__.values() else Priority.NORMAL


def _channel(value: str) -> Channel:
    return Channel(value) if value in Channel.__members__.values() else Channel.COMMUNITY


async def open_from_post(session: AsyncSession, event: PostFlagged, *, now: datetime) -> None:
    if event.flag not in OPENING_FLAGS:
        return
    await open_case(
        session,
        CaseDraft(
            kind=TicketKind.COMPLAINT,
            subject=f"Flagged {event.channel} post: {event.category or event.flag}"[:200],
            description=event.excerpt[:10_000] or "(empty post)",
            priority=_priority(event.priority),
            channel=_channel(event.channel),
            category=event.category[:64] if event.category else None,
            owner_id=event.owner_id,
            vehicle_id=event.vehicle_id,
            dealer_id=event.dealer_id,
            source_type="feedback.post",
            source_id=str(event.post_id),
        ),
        actor=FEEDBACK,
        now=now,
    )


async def open_from_detractor(
    session: AsyncSession, event: DetractorDetected, *, now: datetime, reopen_window: timedelta
) -> None:
    """A detractor answer to a resolution's follow-up survey reopens that case while it
    may be reopened; otherwise (or for any other survey) it opens a new, linked case."""
    followed = (
        await TicketsRepository(session).get(Ticket, event.ticket_id, for_update=True)
        if event.ticket_id
        else None
    )
    why = f"detractor answer ({event.scale.upper()} {event.score}) after {event.touchpoint}"
    if followed is not None and followed.status != TicketStatus.CLOSED:
        if followed.status != TicketStatus.RESOLVED:
            await note(session, followed, "detractor", actor=FEEDBACK, at=now, detail=why)
            return
        if followed.reopen_until is None or now <= followed.reopen_until:
            await move(
                session,
                followed,
                TicketStatus.IN_PROGRESS,
                actor=FEEDBACK,
                reason=why,
                now=now,
                reopen_window=reopen_window,
            )
            return
    high = event.score <= _HIGH_PRIORITY_SCORE.get(event.scale, -1)
    await open_case(
        session,
        CaseDraft(
            kind=TicketKind.COMPLAINT,
            subject=f"Detractor: {why}"[:200],
            description=(event.comment or "(no comment)")[:10_000],
            priority=Priority.HIGH if high else Priority.NORMAL,
            channel=Channel.SURVEY,
            category=event.topics[0][:64] if event.topics else None,
            owner_id=event.owner_id,
            vehicle_id=event.vehicle_id,
            dealer_id=event.dealer_id,
            source_type="feedback.response",
            source_id=str(event.response_id),
            related_ticket_id=event.ticket_id,
        ),
        actor=FEEDBACK,
        now=now,
    )
