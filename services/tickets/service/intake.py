"""Cases opened by events: a flagged complaint, a detractor answer (the closed loop), a new
lead or test-drive request, and a journey's request (a proactive-service campaign).

Opening is idempotent per source (`feedback.post:<id>`, `feedback.response:<id>`,
`profile.lead:<id>`, a journey request's `quality_alert:<alert>:<vehicle>` or
`journeys.ticket_request:<id>`): the same source event, delivered twice
or published twice, never opens two cases. Events about an erased owner are ignored, so a
late event cannot bring their data back.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import Channel, Priority, TicketKind, TicketStatus
from services.tickets.models import Ticket, TicketLink
from services.tickets.repository import TicketsRepository
from services.tickets.service.access import Actor
from services.tickets.service.cases import CaseDraft, open_case
from services.tickets.service.history import note
from services.tickets.service.workflow import move
from shared.contracts.feedback import DetractorDetected, PostFlagged
from shared.contracts.journeys import TicketRequested
from shared.contracts.profile import LeadCreated
from shared.messaging.consumer import PoisonMessage

FEEDBACK = Actor("system", "feedback")
PROFILE = Actor("system", "profile")
JOURNEYS = Actor("system", "journeys")
# Flags that mean an owner has a problem to solve (not abuse or spam, which moderation handles).
OPENING_FLAGS = frozenset({"complaint", "safety"})
# NPS answers this low (or CSAT 1) are urgent enough for a high-priority case.
_HIGH_PRIORITY_SCORE = {"nps": 3, "csat": 1}
LEAD_KINDS = {"lead": TicketKind.LEAD_FOLLOW_UP, "test_drive": TicketKind.TEST_DRIVE}


def _priority(value: str) -> Priority:
    return Priority(value) if value in Priority.__members__.values() else Priority.NORMAL


def _channel(value: str, default: Channel = Channel.COMMUNITY) -> Channel:
    return Channel(value) if value in Channel.__members__.values() else default


async def _erased(session: AsyncSession, owner_id: uuid.UUID | None) -> bool:
    return owner_id is not None and await TicketsRepository(session).is_erased(owner_id)


async def open_from_post(session: AsyncSession, event: PostFlagged, *, now: datetime) -> None:
    if event.flag not in OPENING_FLAGS or await _erased(session, event.owner_id):
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


async def open_from_lead(session: AsyncSession, event: LeadCreated, *, now: datetime) -> None:
    """A new lead or test-drive request becomes a case at the lead's dealer, whose SLA
    (business hours, escalation to its manager) then chases the follow-up."""
    kind = LEAD_KINDS.get(event.kind)
    if kind is None:
        raise PoisonMessage(f"unknown lead kind {event.kind!r}; expected lead or test_drive")
    if await _erased(session, event.owner_id):
        return
    what = "Test drive" if kind is TicketKind.TEST_DRIVE else "New lead"
    model = event.model or "any model"
    wanted = f" on {event.requested_slot:%Y-%m-%d %H:%M} UTC" if event.requested_slot else ""
    await open_case(
        session,
        CaseDraft(
            kind=kind,
            subject=f"{what}: {model}"[:200],
            description=f"{what} for {model} via {event.channel}{wanted}; contact the prospect.",
            priority=Priority.NORMAL,
            channel=_channel(event.channel, Channel.SYSTEM),
            owner_id=event.owner_id,
            dealer_id=event.dealer_id,
            requested_slot=event.requested_slot if kind is TicketKind.TEST_DRIVE else None,
            source_type="profile.lead",
            source_id=str(event.lead_id),
            source_context={"model": event.model, "channel": event.channel},
        ),
        actor=PROFILE,
        now=now,
    )


def _journey_source(event: TicketRequested) -> tuple[str, str]:
    """The case's key: the thing the journey acted on (a quality alert's target vehicle),
    so two journeys acting on one target share a case; else the request itself."""
    if event.source_type and event.source_id and event.source_type != "journey":
        return event.source_type[:64], event.source_id[:128]
    return "journeys.ticket_request", str(event.request_id)


async def open_from_journey(
    session: AsyncSession, event: TicketRequested, *, now: datetime
) -> None:
    """A journey step's case: a proactive-service case of a quality campaign, a recall
    booking. Keyed and linked by its source (see `_journey_source`)."""
    if event.kind not in TicketKind.__members__.values():
        raise PoisonMessage(f"unknown ticket kind {event.kind!r}")
    if await _erased(session, event.owner_id):
        return
    kind = TicketKind(event.kind)
    source_type, source_id = _journey_source(event)
    await open_case(
        session,
        CaseDraft(
            kind=kind,
            subject=f"{kind.replace('_', ' ').capitalize()} ({event.journey_key})"[:200],
            description=event.description[:10_000] or "(no description)",
            priority=_priority(event.priority),
            channel=Channel.SYSTEM,
            category=event.category[:64] if event.category else None,
            owner_id=event.owner_id,
            vehicle_id=event.vehicle_id,
            dealer_id=event.dealer_id,
            source_type=source_type,
            source_id=source_id,
            source_context={
                "journey_key": event.journey_key,
                "request_id": str(event.request_id),
            },
        ),
        actor=JOURNEYS,
        now=now,
    )


async def open_from_detractor(
    session: AsyncSession, event: DetractorDetected, *, now: datetime, reopen_window: timedelta
) -> None:
    """A detractor answer to a resolution's follow-up survey reopens that case while it
    may be reopened; otherwise (or for any other survey) it opens a new, linked case."""
    if await _erased(session, event.owner_id):
        return
    repository = TicketsRepository(session)
    source = ("feedback.response", str(event.response_id))
    if await repository.lock_source(*source) or await repository.get(TicketLink, source):
        return  # this answer already acted (republished, or delivered again)
    followed = (
        await repository.get(Ticket, event.ticket_id, for_update=True) if event.ticket_id else None
    )
    why = f"detractor answer ({event.scale.upper()} {event.score}) after {event.touchpoint}"
    relation = followed and await _act_on(session, followed, why, now, reopen_window)
    if relation:
        await repository.add(
            TicketLink(
                source_type=source[0],
                source_id=source[1],
                ticket_id=followed.id,
                relation=relation,
                at=now,
            )
        )
        return
    high = event.score <= _HIGH_PRIORITY_SCORE.get(event.scale, -1)
    opened, _ = await open_case(
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
            source_type=source[0],
            source_id=source[1],
            related_ticket_id=followed.id if followed else None,
            source_context={"survey_id": str(event.survey_id), "touchpoint": event.touchpoint},
        ),
        actor=FEEDBACK,
        now=now,
    )
    if followed is not None:
        detail = f"{why}; this case can no longer be reopened, so case {opened.number} was opened"
        await note(session, followed, "followed_up", actor=FEEDBACK, at=now, detail=detail)


async def _act_on(
    session: AsyncSession, ticket: Ticket, why: str, now: datetime, reopen_window: timedelta
) -> str | None:
    """Reopens a resolved case still in its reopen period, or notes the answer on a case
    still open; returns which. None when the case is past reopening (a new case follows)."""
    if ticket.status == TicketStatus.CLOSED:
        return None
    if ticket.status != TicketStatus.RESOLVED:
        await note(session, ticket, "detractor", actor=FEEDBACK, at=now, detail=why)
        return "noted"
    if ticket.reopen_until is not None and now > ticket.reopen_until:
        return None
    await move(
        session,
        ticket,
        TicketStatus.IN_PROGRESS,
        actor=FEEDBACK,
        reason=why,
        now=now,
        reopen_window=reopen_window,
    )
    return "reopened"
