"""A case's history (who, when, why) and the events that announce its changes."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import STATUS_LABELS, TicketStatus
from services.tickets.models import Ticket, TicketEntry
from services.tickets.repository import TicketsRepository
from services.tickets.service.access import Actor
from shared.contracts.tickets import StatusLabel, TicketReassigned, TicketStatusChanged
from shared.messaging.envelope import Event
from shared.messaging.outbox import record_event


async def note(
    session: AsyncSession,
    ticket: Ticket,
    action: str,
    *,
    actor: Actor,
    at: datetime,
    detail: str | None = None,
    from_status: str | None = None,
    public: bool = False,
) -> None:
    """Adds a line to the case's history; public lines make the owner's status timeline."""
    await TicketsRepository(session).add(
        TicketEntry(
            ticket_id=ticket.id,
            action=action,
            actor_kind=actor.kind,
            actor=actor.name,
            from_status=from_status,
            to_status=ticket.status if public else None,
            detail=detail,
            public=public,
            at=at,
        )
    )


async def announce(session: AsyncSession, ticket: Ticket, event: Event) -> None:
    await record_event(
        session, event, subject=ticket.id, dealer_id=ticket.dealer_id, owner_id=ticket.owner_id
    )


def status_label(status: str) -> StatusLabel:
    return StatusLabel(**STATUS_LABELS[TicketStatus(status)])


async def announce_status(
    session: AsyncSession,
    ticket: Ticket,
    *,
    previous: str,
    reopened: bool,
    reason: str | None,
    actor: Actor,
    at: datetime,
) -> None:
    await announce(
        session,
        ticket,
        TicketStatusChanged(
            ticket_id=ticket.id,
            number=ticket.number,
            kind=ticket.kind,
            owner_id=ticket.owner_id,
            dealer_id=ticket.dealer_id,
            previous_status=previous,
            status=ticket.status,
            status_label=status_label(ticket.status),
            reopened=reopened,
            reason=reason,
            changed_by=actor.kind,
            changed_at=at,
        ),
    )


async def announce_reassigned(
    session: AsyncSession,
    ticket: Ticket,
    *,
    previous_queue: str,
    previous_assignee: str | None,
    reason: str | None,
    actor: Actor,
    at: datetime,
) -> None:
    await announce(
        session,
        ticket,
        TicketReassigned(
            ticket_id=ticket.id,
            number=ticket.number,
            kind=ticket.kind,
            owner_id=ticket.owner_id,
            dealer_id=ticket.dealer_id,
            previous_queue=previous_queue,
            queue=ticket.queue,
            previous_assignee=previous_assignee,
            assignee=ticket.assignee,
            reason=reason,
            reassigned_by=actor.kind,
            reassigned_at=at,
        ),
    )
