"""Privacy queries: what is held about an owner, and erasing it."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from services.tickets.models import (
    ErasedOwner,
    KnownOwner,
    KnownVehicle,
    Ticket,
    TicketComment,
    TicketEntry,
)
from services.tickets.repository.base import BaseRepository, ticket_scope
from shared.auth import Caller, CallerKind


class PrivacyQueries(BaseRepository):
    async def is_erased(self, owner_id: uuid.UUID) -> bool:
        """Whether the owner was erased; holds the owner's lock until the transaction ends,
        so an erasure and an event about the same owner never interleave."""
        await self.lock_owner(owner_id)
        return await self.session.get(ErasedOwner, owner_id) is not None

    async def lock_owner(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"owner:{owner_id}")))
        )

    async def owner_tickets(self, caller: Caller, owner_id: uuid.UUID) -> Sequence[Ticket]:
        return (
            await self.session.scalars(
                select(Ticket)
                .where(ticket_scope(caller), Ticket.owner_id == owner_id)
                .order_by(Ticket.number)
            )
        ).all()

    async def all_comments(
        self, ticket_id: uuid.UUID, *, public_only: bool
    ) -> Sequence[TicketComment]:
        statement = select(TicketComment).where(TicketComment.ticket_id == ticket_id)
        if public_only:
            statement = statement.where(TicketComment.visibility == "public")
        return (await self.session.scalars(statement.order_by(TicketComment.created_at))).all()

    async def owner_vehicles(self, owner_id: uuid.UUID) -> Sequence[KnownVehicle]:
        return (
            await self.session.scalars(
                select(KnownVehicle)
                .where(KnownVehicle.owner_id == owner_id)
                .order_by(KnownVehicle.vin)
            )
        ).all()

    async def mark_erased(self, owner_id: uuid.UUID, request_id: uuid.UUID, at: datetime) -> None:
        statement = insert(ErasedOwner).values(
            owner_id=owner_id, request_id=request_id, erased_at=at
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ErasedOwner.owner_id],
                set_={"request_id": request_id, "erased_at": at},
            )
        )

    async def erase_owner(self, owner_id: uuid.UUID, *, placeholder: str) -> int:
        """Blanks every free text of the owner's cases and unlinks them from the owner and
        their vehicles; status, times and SLA outcomes stay for anonymous counts. Returns
        how many records held their data."""
        ids = list(
            (await self.session.scalars(select(Ticket.id).where(Ticket.owner_id == owner_id))).all()
        )
        comments = await self.session.execute(
            update(TicketComment)
            .where(TicketComment.ticket_id.in_(ids))
            .values(body=placeholder, attachments=[])
        )
        await self.session.execute(
            update(TicketEntry).where(TicketEntry.ticket_id.in_(ids)).values(detail=None)
        )
        await self.session.execute(
            update(TicketEntry)
            .where(TicketEntry.ticket_id.in_(ids), TicketEntry.actor_kind == CallerKind.OWNER)
            .values(actor=placeholder)
        )
        await self.session.execute(
            update(TicketComment)
            .where(TicketComment.ticket_id.in_(ids), TicketComment.author_kind == CallerKind.OWNER)
            .values(author=placeholder)
        )
        await self.session.execute(
            update(Ticket)
            .where(Ticket.id.in_(ids))
            .values(
                subject=placeholder,
                description=placeholder,
                source_context={},
                owner_id=None,
                vehicle_id=None,
                created_by=case(
                    (Ticket.created_by == str(owner_id), placeholder), else_=Ticket.created_by
                ),
            )
        )
        vehicles = await self.session.execute(
            update(KnownVehicle).where(KnownVehicle.owner_id == owner_id).values(owner_id=None)
        )
        owners = await self.session.execute(delete(KnownOwner).where(KnownOwner.id == owner_id))
        return len(ids) + comments.rowcount + vehicles.rowcount + owners.rowcount
