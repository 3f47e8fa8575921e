"""Opening cases (by people and from events) and reading them, scoped by the caller."""

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import (
    KINDS_WITH_SLOT,
    OWNER_KINDS,
    Channel,
    Priority,
    TicketKind,
    TicketStatus,
)
from services.tickets.errors import TicketNotFound, UnknownReference
from services.tickets.models import Ticket
from services.tickets.repository import TicketsRepository
from services.tickets.schemas import OwnerTicketRead, TicketCreate, TicketRead, TimelineEntryRead
from services.tickets.service import sla
from services.tickets.service.access import Actor, actor_of, require_agent, require_reader
from services.tickets.service.history import announce, note
from services.tickets.service.routing import routed
from services.tickets.service.views import ticket_view, ticket_views, timeline_view
from shared.auth import Caller, CallerKind
from shared.contracts.tickets import TicketCreated
from shared.pagination import PageParams

_DEFAULT_CHANNEL = {
    CallerKind.OWNER: Channel.APP,
    CallerKind.DEALER: Channel.DEALER,
    CallerKind.STAFF: Channel.PHONE,
}


@dataclass(frozen=True)
class CaseDraft:
    """A case about to be opened, whoever (or whatever) asked for it."""

    kind: TicketKind
    subject: str
    description: str
    priority: Priority
    channel: Channel
    category: str | None = None
    owner_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    requested_slot: datetime | None = None
    source_type: str | None = None
    source_id: str | None = None
    related_ticket_id: uuid.UUID | None = None
    source_context: dict = field(default_factory=dict)


async def open_ticket(
    session: AsyncSession, *, caller: Caller, data: TicketCreate, now: datetime
) -> tuple[TicketRead | OwnerTicketRead, bool]:
    """Opens a case for the caller; returns it and whether it is new (a repeated `source`
    returns the case that source already opened)."""
    draft = await _draft_for(session, caller, data)
    ticket, created = await open_case(session, draft, actor=actor_of(caller), now=now)
    if not created and await TicketsRepository(session).get_ticket(caller, ticket.id) is None:
        raise UnknownReference.for_field("body.source", "this source opened a case you cannot see")
    return await ticket_view(session, caller, ticket), created


async def _draft_for(session: AsyncSession, caller: Caller, data: TicketCreate) -> CaseDraft:
    """Checks what this caller may ask for and fills in what it implies."""
    owner_id, dealer_id = data.owner_id, data.dealer_id
    match caller.kind:
        case CallerKind.OWNER:
            if data.kind not in OWNER_KINDS:
                raise UnknownReference.for_field("body.kind", f"owners cannot open {data.kind}")
            if owner_id not in (None, caller.owner_id):
                raise UnknownReference.for_field("body.owner_id", "owners open their own cases")
            if data.source is not None:
                raise UnknownReference.for_field("body.source", "owners cannot name a source")
            owner_id = caller.owner_id
        case CallerKind.DEALER:
            dealer_id = caller.acting_dealer(dealer_id)
            if dealer_id is None:  # another dealer's, or a dealer group's key naming none
                raise UnknownReference.for_field("body.dealer_id", "dealers open their own cases")
        case _:
            require_agent(caller)
    if (data.requested_slot is None) == (data.kind in KINDS_WITH_SLOT):
        need = "is required for" if data.requested_slot is None else "applies only to"
        raise UnknownReference.for_field(
            "body.requested_slot", f"{need} service bookings and test drives"
        )
    vehicle = await TicketsRepository(session).known_vehicle(data.vehicle_id)
    if vehicle and owner_id and vehicle.owner_id not in (None, owner_id):
        raise UnknownReference.for_field("body.vehicle_id", "the vehicle is not this owner's")
    return CaseDraft(
        kind=data.kind,
        subject=data.subject,
        description=data.description,
        priority=data.priority,
        channel=data.channel or _DEFAULT_CHANNEL[caller.kind],
        category=data.category,
        owner_id=owner_id,
        vehicle_id=data.vehicle_id,
        dealer_id=dealer_id,
        requested_slot=data.requested_slot,
        source_type=data.source.type if data.source else None,
        source_id=data.source.id if data.source else None,
    )


async def open_case(
    session: AsyncSession, draft: CaseDraft, *, actor: Actor, now: datetime
) -> tuple[Ticket, bool]:
    """Routes, stores and announces a case and starts its SLA clocks. Idempotent per source."""
    repository = TicketsRepository(session)
    if draft.source_type and draft.source_id:
        existing = await repository.lock_source(draft.source_type, draft.source_id)
        if existing is not None:
            return existing, False
    decision, dealer_id = await routed(repository, draft)
    dealer = await repository.known_dealer(dealer_id)
    ticket = await repository.add(
        Ticket(
            **(asdict(draft) | {"dealer_id": dealer_id}),
            status=TicketStatus.NEW,
            region=dealer.region if dealer else None,
            queue=decision.queue,
            created_by=actor.name,
            created_at=now,
            updated_at=now,
        )
    )
    watchers = await repository.add_watchers(ticket.id, decision.watchers, reason="routing", at=now)
    await note(session, ticket, "opened", actor=actor, at=now, public=True)
    await note(
        session,
        ticket,
        "routed",
        actor=actor,
        at=now,
        detail=f"queue {ticket.queue}; dealer {dealer.code if dealer else dealer_id or 'none'};"
        f" watchers {', '.join(watchers) or 'none'}",
    )
    clocks = {row.kind: row.due_at for row in await sla.start_clocks(session, ticket, now)}
    await announce(
        session,
        ticket,
        TicketCreated(
            ticket_id=ticket.id,
            number=ticket.number,
            kind=ticket.kind,
            category=ticket.category,
            priority=ticket.priority,
            status=ticket.status,
            channel=ticket.channel,
            owner_id=ticket.owner_id,
            vehicle_id=ticket.vehicle_id,
            dealer_id=ticket.dealer_id,
            queue=ticket.queue,
            watchers=watchers,
            source_type=ticket.source_type,
            source_id=ticket.source_id,
            source_context=ticket.source_context,
            related_ticket_id=ticket.related_ticket_id,
            first_response_due_at=clocks.get(sla.SlaClockKind.FIRST_RESPONSE),
            resolution_due_at=clocks.get(sla.SlaClockKind.RESOLUTION),
            created_at=now,
        ),
    )
    return ticket, True


async def load_ticket(
    session: AsyncSession, caller: Caller, ticket_id: uuid.UUID, *, for_update: bool = False
) -> Ticket:
    """The case if the caller may see it; otherwise a 404, never the case."""
    require_reader(caller)
    ticket = await TicketsRepository(session).get_ticket(caller, ticket_id, for_update=for_update)
    if ticket is None:
        raise TicketNotFound(f"Ticket {ticket_id} not found")
    return ticket


async def get_ticket(
    session: AsyncSession, *, caller: Caller, ticket_id: uuid.UUID
) -> TicketRead | OwnerTicketRead:
    return await ticket_view(session, caller, await load_ticket(session, caller, ticket_id))


async def list_tickets(
    session: AsyncSession, *, caller: Caller, page: PageParams, filters: dict, mine: bool = False
) -> tuple[list, int]:
    require_reader(caller)
    worker = caller.subject if mine and caller.kind is not CallerKind.OWNER else None
    tickets, total = await TicketsRepository(session).list_tickets(
        caller, page, filters, worked_by=worker
    )
    return await ticket_views(session, caller, tickets), total


async def get_timeline(
    session: AsyncSession, *, caller: Caller, ticket_id: uuid.UUID
) -> list[TimelineEntryRead]:
    ticket = await load_ticket(session, caller, ticket_id)
    entries = await TicketsRepository(session).entries(
        ticket.id, public_only=caller.kind is CallerKind.OWNER
    )
    return timeline_view(caller, entries)
