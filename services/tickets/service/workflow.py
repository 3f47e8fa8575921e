"""Working a case: status moves, workshop pauses, watchers and comments."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import (
    REOPEN,
    PauseReason,
    TicketStatus,
    Visibility,
    pause_for_status,
    pause_problem,
    transition_problem,
)
from services.tickets.domain.sla import SlaClockKind
from services.tickets.errors import CannotPause, IllegalTransition, UnknownReference
from services.tickets.models import Ticket, TicketComment, TicketPause
from services.tickets.repository import TicketsRepository
from services.tickets.schemas import (
    CommentCreate,
    CommentRead,
    OwnerTicketRead,
    PauseCreate,
    TicketRead,
    TransitionCreate,
    WatcherCreate,
)
from services.tickets.service import sla
from services.tickets.service.access import SYSTEM, Actor, actor_of, require_agent
from services.tickets.service.cases import load_ticket
from services.tickets.service.history import announce, announce_status, note
from services.tickets.service.views import ticket_view
from shared.auth import Caller, CallerKind
from shared.contracts.tickets import TicketResolved
from shared.pagination import PageParams


async def transition(
    session: AsyncSession,
    *,
    caller: Caller,
    ticket_id: uuid.UUID,
    data: TransitionCreate,
    now: datetime,
    reopen_window: timedelta,
) -> TicketRead | OwnerTicketRead:
    ticket = await load_ticket(session, caller, ticket_id, for_update=True)
    by_owner = caller.kind is CallerKind.OWNER
    if not by_owner:
        require_agent(caller)
    await move(
        session,
        ticket,
        data.to,
        actor=actor_of(caller),
        reason=data.reason,
        now=now,
        reopen_window=reopen_window,
        by_owner=by_owner,
    )
    return await ticket_view(session, caller, ticket)


async def move(
    session: AsyncSession,
    ticket: Ticket,
    target: TicketStatus,
    *,
    actor: Actor,
    reason: str | None,
    now: datetime,
    reopen_window: timedelta,
    by_owner: bool = False,
) -> None:
    """Applies one step of the state machine, with its SLA effects, history and events."""
    current = TicketStatus(ticket.status)
    problem = transition_problem(
        current, target, by_owner=by_owner, now=now, reopen_until=ticket.reopen_until
    )
    if problem:
        raise IllegalTransition(f"Ticket {ticket.number}: {problem}")
    reopened = (current, target) == REOPEN
    ticket.status = target
    ticket.updated_at = now
    await _set_pause(session, ticket, pause_for_status(target, _pause_of(ticket)), actor, now)
    if current is TicketStatus.NEW and actor.responds:
        await first_response(session, ticket, now)
    if target is TicketStatus.RESOLVED:
        ticket.resolved_at, ticket.reopen_until = now, now + reopen_window
        await sla.stop(session, ticket, now, *SlaClockKind)
    elif target is TicketStatus.CLOSED:
        ticket.closed_at = now
    elif reopened:
        ticket.reopen_count += 1
        ticket.resolved_at = ticket.reopen_until = None
        await sla.restart_resolution(session, ticket, now)
    action = "reopened" if reopened else "status_changed"
    await note(
        session,
        ticket,
        action,
        actor=actor,
        at=now,
        detail=reason,
        from_status=current,
        public=True,
    )
    await announce_status(
        session, ticket, previous=current, reopened=reopened, reason=reason, actor=actor, at=now
    )
    if target is TicketStatus.RESOLVED:
        await announce(session, ticket, _resolved(ticket, reason))


def _resolved(ticket: Ticket, resolution: str | None) -> TicketResolved:
    return TicketResolved(
        ticket_id=ticket.id,
        number=ticket.number,
        kind=ticket.kind,
        category=ticket.category,
        owner_id=ticket.owner_id,
        vehicle_id=ticket.vehicle_id,
        dealer_id=ticket.dealer_id,
        channel=ticket.channel,
        source_type=ticket.source_type,
        source_id=ticket.source_id,
        resolution=resolution,
        reopen_until=ticket.reopen_until,
        resolved_at=ticket.resolved_at,
    )


async def first_response(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        await sla.stop(session, ticket, now, SlaClockKind.FIRST_RESPONSE)


def _pause_of(ticket: Ticket) -> PauseReason | None:
    return PauseReason(ticket.pause_reason) if ticket.pause_reason else None


async def _set_pause(
    session: AsyncSession, ticket: Ticket, reason: PauseReason | None, actor: Actor, now: datetime
) -> None:
    """Ends the current pause span (clocks run again) and starts the new one (they stop)."""
    if reason == _pause_of(ticket):
        return
    repository = TicketsRepository(session)
    if ticket.pause_reason:
        span = await repository.open_pause(ticket.id)
        if span is not None:
            span.ended_at = now
        await sla.resume(session, ticket, now)
        await note(session, ticket, "resumed", actor=actor, at=now, detail=ticket.pause_reason)
    if reason:
        await repository.add(TicketPause(ticket_id=ticket.id, reason=reason, started_at=now))
        await sla.pause(session, ticket, now)
        await note(session, ticket, "paused", actor=actor, at=now, detail=reason)
    ticket.pause_reason = reason


async def pause(
    session: AsyncSession, *, caller: Caller, ticket_id: uuid.UUID, data: PauseCreate, now: datetime
) -> TicketRead:
    require_agent(caller)
    ticket = await load_ticket(session, caller, ticket_id, for_update=True)
    if data.reason is PauseReason.WAITING_ON_OWNER:
        raise UnknownReference.for_field(
            "body.reason", "waiting on the owner is a status: move the case to waiting_on_owner"
        )
    if problem := pause_problem(TicketStatus(ticket.status), _pause_of(ticket)):
        raise CannotPause(f"Ticket {ticket.number}: {problem}")
    await _set_pause(session, ticket, data.reason, actor_of(caller), now)
    ticket.updated_at = now
    return await ticket_view(session, caller, ticket)


async def resume(
    session: AsyncSession, *, caller: Caller, ticket_id: uuid.UUID, now: datetime
) -> TicketRead:
    require_agent(caller)
    ticket = await load_ticket(session, caller, ticket_id, for_update=True)
    if _pause_of(ticket) in (None, PauseReason.WAITING_ON_OWNER):
        raise CannotPause(f"Ticket {ticket.number} has no workshop pause to end")
    await _set_pause(session, ticket, None, actor_of(caller), now)
    ticket.updated_at = now
    return await ticket_view(session, caller, ticket)


async def add_watcher(
    session: AsyncSession,
    *,
    caller: Caller,
    ticket_id: uuid.UUID,
    data: WatcherCreate,
    now: datetime,
) -> TicketRead:
    require_agent(caller)
    ticket = await load_ticket(session, caller, ticket_id)
    added = await TicketsRepository(session).add_watchers(
        ticket.id, [data.watcher], reason="added", at=now
    )
    if added:
        await note(
            session, ticket, "watcher_added", actor=actor_of(caller), at=now, detail=added[0]
        )
    return await ticket_view(session, caller, ticket)


async def add_comment(
    session: AsyncSession,
    *,
    caller: Caller,
    ticket_id: uuid.UUID,
    data: CommentCreate,
    now: datetime,
    reopen_window: timedelta,
) -> TicketComment:
    """Public comments reach the owner; internal notes never do. A dealer's or agent's
    public reply is a first response; an owner's reply ends waiting on the owner."""
    ticket = await load_ticket(session, caller, ticket_id, for_update=True)
    actor = actor_of(caller)
    if caller.kind is CallerKind.OWNER:
        if data.visibility is Visibility.INTERNAL:
            raise UnknownReference.for_field("body.visibility", "owners post public comments")
    else:
        require_agent(caller)
    if ticket.status == TicketStatus.CLOSED:
        raise IllegalTransition(f"Ticket {ticket.number} is closed; open a new case instead")
    comment = await TicketsRepository(session).add(
        TicketComment(
            ticket_id=ticket.id,
            author_kind=actor.kind,
            author=actor.name,
            visibility=data.visibility,
            body=data.body,
            attachments=[attachment.model_dump() for attachment in data.attachments],
            created_at=now,
        )
    )
    ticket.updated_at = now
    if data.visibility is Visibility.PUBLIC and actor.responds:
        await first_response(session, ticket, now)
    if caller.kind is CallerKind.OWNER and ticket.status == TicketStatus.WAITING_ON_OWNER:
        await move(
            session,
            ticket,
            TicketStatus.IN_PROGRESS,
            actor=SYSTEM,
            reason="the owner replied",
            now=now,
            reopen_window=reopen_window,
        )
    return comment


async def list_comments(
    session: AsyncSession, *, caller: Caller, ticket_id: uuid.UUID, page: PageParams
) -> tuple[list[CommentRead], int]:
    ticket = await load_ticket(session, caller, ticket_id)
    comments, total = await TicketsRepository(session).comments(
        ticket.id, page, public_only=caller.kind is CallerKind.OWNER
    )
    return [CommentRead.model_validate(comment) for comment in comments], total
