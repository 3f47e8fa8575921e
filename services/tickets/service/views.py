"""What each caller sees of a case: owners a plain-words view, dealers and staff all of it."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import STATUS_LABELS, TicketKind, TicketStatus
from services.tickets.models import Ticket, TicketEntry
from services.tickets.repository import TicketsRepository
from services.tickets.schemas import OwnerTicketRead, TicketRead, TimelineEntryRead
from services.tickets.service.sla import clock_view
from shared.auth import Caller, CallerKind


async def ticket_views(
    session: AsyncSession, caller: Caller, tickets: Sequence[Ticket]
) -> list[TicketRead] | list[OwnerTicketRead]:
    labelled = [
        {**ticket.model_dump(), "status_label": STATUS_LABELS[TicketStatus(ticket.status)]}
        for ticket in tickets
    ]
    if caller.kind is CallerKind.OWNER:
        return [OwnerTicketRead.model_validate(values) for values in labelled]
    repository = TicketsRepository(session)
    ids = [ticket.id for ticket in tickets]
    watchers = await repository.watchers(ids)
    clocks: dict = {ticket_id: [] for ticket_id in ids}
    for row in await repository.clocks(ids):
        clocks[row.ticket_id].append(clock_view(row))
    faults = await _faults_to_prepare(repository, tickets)
    return [
        TicketRead.model_validate(
            {
                **values,
                "watchers": watchers[values["id"]],
                "sla": clocks[values["id"]],
                "vehicle_faults": faults.get(values["vehicle_id"], []),
            }
        )
        for values in labelled
    ]


async def _faults_to_prepare(
    repository: TicketsRepository, tickets: Sequence[Ticket]
) -> dict[uuid.UUID, list[dict]]:
    """Active fault codes of the vehicles booked in for service and not yet seen to."""
    vehicles = {
        ticket.vehicle_id
        for ticket in tickets
        if ticket.kind == TicketKind.SERVICE_BOOKING
        and ticket.vehicle_id
        and ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    }
    faults: dict[uuid.UUID, list[dict]] = defaultdict(list)
    for fault in await repository.active_faults(vehicles) if vehicles else ():
        faults[fault.vehicle_id].append(fault.model_dump())
    return faults


async def ticket_view(
    session: AsyncSession, caller: Caller, ticket: Ticket
) -> TicketRead | OwnerTicketRead:
    return (await ticket_views(session, caller, [ticket]))[0]


def timeline_view(caller: Caller, entries: Sequence[TicketEntry]) -> list[TimelineEntryRead]:
    """Owners see who moved their case only as a kind of actor, never a name or a note."""
    owner = caller.kind is CallerKind.OWNER
    return [
        TimelineEntryRead(
            action=entry.action,
            actor_kind=entry.actor_kind,
            actor=None if owner else entry.actor,
            from_status=entry.from_status,
            to_status=entry.to_status,
            status_label=STATUS_LABELS[TicketStatus(entry.to_status)] if entry.to_status else None,
            detail=None if owner else entry.detail,
            at=entry.at,
        )
        for entry in entries
    ]
