"""Reassigning a case between queues and agents, with its history and event."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import TicketStatus
from services.tickets.domain.routing import DEFAULT_QUEUE
from services.tickets.errors import IllegalTransition, UnknownReference
from services.tickets.models import Queue, Ticket
from services.tickets.repository import TicketsRepository
from services.tickets.schemas import AssignmentCreate, TicketRead
from services.tickets.service.access import actor_of, require_agent
from services.tickets.service.cases import load_ticket
from services.tickets.service.history import announce_reassigned, note
from services.tickets.service.views import ticket_view
from shared.auth import Caller, CallerKind, StaffRole


async def reassign(
    session: AsyncSession,
    *,
    caller: Caller,
    ticket_id: uuid.UUID,
    data: AssignmentCreate,
    now: datetime,
) -> TicketRead:
    """A dealer hands its case to one of its people; CX agents also move it between queues."""
    require_agent(caller)
    ticket = await load_ticket(session, caller, ticket_id, for_update=True)
    queue = data.queue or ticket.queue
    assignee = data.assignee if "assignee" in data.model_fields_set else ticket.assignee
    if queue != ticket.queue and caller.kind is CallerKind.DEALER:
        caller.require_staff(StaffRole.CX_AGENT)  # a dealer never moves a case between queues
    if ticket.status == TicketStatus.CLOSED:
        raise IllegalTransition(f"Ticket {ticket.number} is closed; it cannot be reassigned")
    await _check_assignee(session, queue, assignee)
    if (queue, assignee) != (ticket.queue, ticket.assignee):
        await _move_work(session, ticket, queue, assignee, caller, data.reason, now)
    return await ticket_view(session, caller, ticket)


async def _check_assignee(session: AsyncSession, queue: str, assignee: str | None) -> None:
    """The queue must exist; a queue with members takes only its members as assignees."""
    row = await TicketsRepository(session).get(Queue, queue)
    if row is None and queue != DEFAULT_QUEUE:
        raise UnknownReference.for_field("body.queue", f"queue {queue!r} does not exist")
    if row and row.members and assignee is not None and assignee not in row.members:
        raise UnknownReference.for_field(
            "body.assignee", f"{assignee!r} is not a member of queue {queue!r}"
        )


async def _move_work(
    session: AsyncSession,
    ticket: Ticket,
    queue: str,
    assignee: str | None,
    caller: Caller,
    reason: str | None,
    now: datetime,
) -> None:
    previous_queue, previous_assignee = ticket.queue, ticket.assignee
    ticket.queue, ticket.assignee, ticket.updated_at = queue, assignee, now
    actor = actor_of(caller)
    change = (
        f"queue {previous_queue} → {queue}; "
        f"assignee {previous_assignee or 'nobody'} → {assignee or 'nobody'}"
    )
    await note(
        session, ticket, "reassigned", actor=actor, at=now,
        detail=f"{change}; {reason}" if reason else change,
    )  # fmt: skip
    await announce_reassigned(
        session, ticket, previous_queue=previous_queue, previous_assignee=previous_assignee,
        reason=reason, actor=actor, at=now,
    )  # fmt: skip
