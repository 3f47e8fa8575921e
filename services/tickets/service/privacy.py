"""An owner's privacy rights in tickets: export everything held about them, and erase it.

Erasure blanks the free text of their cases (subject, description, comments, history
notes, attachments) and unlinks the cases from them and their vehicles, keeping statuses,
times and SLA outcomes, so reports still count the cases anonymously. The owner is
remembered as erased, so a late event about them opens nothing and projects nothing.
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.config import SERVICE
from services.tickets.errors import OwnerDataNotFound
from services.tickets.models import ErasedOwner, KnownOwner
from services.tickets.repository import TicketsRepository
from services.tickets.schemas import CommentRead
from services.tickets.schemas.privacy import (
    CaseExport,
    OwnerExport,
    OwnerProfileExport,
    VehicleExport,
)
from services.tickets.service.views import ticket_views, timeline_view
from shared.audit import record_staff_export
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import OwnerErasureRequested
from shared.contracts.tickets import TicketsErasureCompleted, TicketsOwnerDataExported
from shared.idempotency.claims import forget_answers_about
from shared.messaging.outbox import record_event

ERASED = "(erased)"


async def erase_owner(
    session: AsyncSession, event: OwnerErasureRequested, *, now: datetime
) -> None:
    """Erases once per request: the same request published again is already answered."""
    repository = TicketsRepository(session)
    await repository.lock_owner(event.owner_id)
    done = await repository.get(ErasedOwner, event.owner_id)
    if done is not None and done.request_id == event.request_id:
        return
    await repository.mark_erased(event.owner_id, event.request_id, now)
    erased = await repository.erase_owner(event.owner_id, placeholder=ERASED)
    erased += await forget_answers_about(session, event.owner_id)
    await record_event(
        session,
        TicketsErasureCompleted(
            request_id=event.request_id,
            owner_id=event.owner_id,
            service=SERVICE,
            records_erased=erased,
            completed_at=now,
        ),
        subject=event.request_id,
        owner_id=event.owner_id,
    )


def _require_owner_or_staff(caller: Caller, owner_id: uuid.UUID) -> None:
    """The owner themselves, or CX staff (and admins); another owner gets a 404."""
    if caller.kind is CallerKind.OWNER:
        if caller.owner_id != owner_id:
            raise OwnerDataNotFound(f"No ticket data for owner {owner_id}")
        return
    caller.require_staff(StaffRole.CX_AGENT)


async def export_owner(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, now: datetime
) -> OwnerExport:
    """The owner's cases as the caller may see them (an owner: the public timeline and
    comments; staff: everything, in their region), their profile facts and vehicles. A staff
    export is recorded for the owner's audit log in profile."""
    _require_owner_or_staff(caller, owner_id)
    repository = TicketsRepository(session)
    erased = await repository.get(ErasedOwner, owner_id)
    profile = await repository.get(KnownOwner, owner_id)
    tickets = await repository.owner_tickets(caller, owner_id)
    public_only = caller.kind is CallerKind.OWNER
    cases = [
        CaseExport(
            case=view,
            timeline=timeline_view(
                caller, await repository.entries(view.id, public_only=public_only)
            ),
            comments=[
                CommentRead.model_validate(comment)
                for comment in await repository.all_comments(view.id, public_only=public_only)
            ],
        )
        for view in await ticket_views(session, caller, tickets)
    ]
    await record_staff_export(
        session, TicketsOwnerDataExported, caller=caller, owner_id=owner_id, at=now
    )
    return OwnerExport(
        owner_id=owner_id,
        generated_at=now,
        erased_at=erased.erased_at if erased else None,
        profile=OwnerProfileExport.model_validate(profile) if profile else None,
        vehicles=[
            VehicleExport.model_validate(vehicle)
            for vehicle in await repository.owner_vehicles(owner_id)
        ],
        cases=cases,
    )
