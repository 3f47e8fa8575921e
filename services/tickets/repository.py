"""Every tickets query. Reads of cases take the caller and apply its scope; writes flush only."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, case, delete, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.tickets.models import (
    DealerSettings,
    ErasedOwner,
    KnownDealer,
    KnownOwner,
    KnownVehicle,
    Queue,
    RoutingRule,
    SlaClockRow,
    SlaPolicy,
    Ticket,
    TicketComment,
    TicketEntry,
    TicketPause,
    TicketWatcher,
)
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams

M = TypeVar("M", bound=SQLModel)


def ticket_scope(caller: Caller) -> ColumnElement[bool]:
    """Owners see their own cases, dealers the cases routed to them, staff their region."""
    match caller.kind:
        case CallerKind.OWNER:
            return Ticket.owner_id == caller.owner_id if caller.owner_id else false()
        case CallerKind.DEALER:
            return Ticket.dealer_id == caller.dealer_id if caller.dealer_id else false()
        case CallerKind.STAFF:
            return Ticket.region == caller.region if caller.region else true()
    return false()


class TicketsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, model: M) -> M:
        self.session.add(model)
        await self.session.flush()
        return model

    async def delete(self, model: SQLModel) -> None:
        await self.session.delete(model)
        await self.session.flush()

    async def page(
        self, model: type[M], page: PageParams, *conditions: Any, order_by: Any
    ) -> tuple[Sequence[M], int]:
        total = await self.session.scalar(
            select(func.count()).select_from(model).where(*conditions)
        )
        rows = await self.session.scalars(
            select(model)
            .where(*conditions)
            .order_by(order_by)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all(), total or 0

    async def get(self, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
        return await self.session.get(model, key, with_for_update=for_update)

    # Cases

    async def list_tickets(
        self,
        caller: Caller,
        page: PageParams,
        filters: dict[str, Any],
        *,
        worked_by: str | None = None,
    ) -> tuple[Sequence[Ticket], int]:
        """`worked_by`: only cases assigned to that agent or in a queue they are a member of."""
        conditions = [getattr(Ticket, name) == value for name, value in filters.items() if value]
        if worked_by:
            their_queues = select(Queue.key).where(Queue.members.contains([worked_by]))
            conditions.append(or_(Ticket.assignee == worked_by, Ticket.queue.in_(their_queues)))
        return await self.page(
            Ticket, page, ticket_scope(caller), *conditions, order_by=Ticket.number.desc()
        )

    async def get_ticket(
        self, caller: Caller, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> Ticket | None:
        statement = select(Ticket).where(ticket_scope(caller), Ticket.id == ticket_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def lock_source(self, source_type: str, source_id: str) -> Ticket | None:
        """Serialises openings from one source (so two deliveries cannot both open a case)
        and returns the case it already opened, if any."""
        key = func.hashtext(f"{source_type}:{source_id}")
        await self.session.execute(select(func.pg_advisory_xact_lock(key)))
        return await self.session.scalar(
            select(Ticket).where(Ticket.source_type == source_type, Ticket.source_id == source_id)
        )

    async def is_erased(self, owner_id: uuid.UUID) -> bool:
        """Whether the owner was erased; holds the owner's lock until the transaction ends,
        so an erasure and an event about the same owner never interleave."""
        await self.lock_owner(owner_id)
        return await self.session.get(ErasedOwner, owner_id) is not None

    async def lock_owner(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"owner:{owner_id}")))
        )

    async def entries(self, ticket_id: uuid.UUID, *, public_only: bool) -> Sequence[TicketEntry]:
        statement = select(TicketEntry).where(TicketEntry.ticket_id == ticket_id)
        if public_only:
            statement = statement.where(TicketEntry.public)
        return (await self.session.scalars(statement.order_by(TicketEntry.seq))).all()

    async def comments(
        self, ticket_id: uuid.UUID, page: PageParams, *, public_only: bool
    ) -> tuple[Sequence[TicketComment], int]:
        conditions = [TicketComment.ticket_id == ticket_id]
        if public_only:
            conditions.append(TicketComment.visibility == "public")
        return await self.page(TicketComment, page, *conditions, order_by=TicketComment.created_at)

    async def watchers(self, ticket_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        ids = list(ticket_ids)
        rows = await self.session.scalars(
            select(TicketWatcher)
            .where(TicketWatcher.ticket_id.in_(ids))
            .order_by(TicketWatcher.added_at, TicketWatcher.watcher)
        )
        found: dict[uuid.UUID, list[str]] = {ticket_id: [] for ticket_id in ids}
        for row in rows:
            found[row.ticket_id].append(row.watcher)
        return found

    async def add_watchers(
        self, ticket_id: uuid.UUID, watchers: Iterable[str], *, reason: str, at: datetime
    ) -> list[str]:
        """Adds the ones not yet watching; returns those added."""
        added = []
        for watcher in dict.fromkeys(watchers):
            inserted = await self.session.scalar(
                insert(TicketWatcher)
                .values(ticket_id=ticket_id, watcher=watcher, reason=reason, added_at=at)
                .on_conflict_do_nothing()
                .returning(TicketWatcher.watcher)
            )
            if inserted:
                added.append(inserted)
        return added

    async def clocks(
        self, ticket_ids: Iterable[uuid.UUID], *, for_update: bool = False
    ) -> list[SlaClockRow]:
        statement = (
            select(SlaClockRow)
            .where(SlaClockRow.ticket_id.in_(list(ticket_ids)))
            .order_by(SlaClockRow.ticket_id, SlaClockRow.kind)
        )
        if for_update:
            statement = statement.with_for_update()
        return list((await self.session.scalars(statement)).all())

    async def claim_due_clocks(self, now: datetime, limit: int) -> Sequence[SlaClockRow]:
        """Due, unbreached clocks; rows another worker holds are skipped, not waited for."""
        return (
            await self.session.scalars(
                select(SlaClockRow)
                .where(
                    SlaClockRow.breached_at.is_(None),
                    SlaClockRow.stopped_at.is_(None),
                    SlaClockRow.due_at <= now,
                )
                .order_by(SlaClockRow.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def ticket_for_breach(self, ticket_id: uuid.UUID) -> Ticket | None:
        """The case, locked, unless a request holds it (then None: no waiting, no deadlock)."""
        return await self.session.scalar(
            select(Ticket).where(Ticket.id == ticket_id).with_for_update(skip_locked=True)
        )

    async def open_pause(self, ticket_id: uuid.UUID) -> TicketPause | None:
        return await self.session.scalar(
            select(TicketPause).where(
                TicketPause.ticket_id == ticket_id, TicketPause.ended_at.is_(None)
            )
        )

    # Configuration

    async def routing_rules(self, *, enabled_only: bool) -> Sequence[RoutingRule]:
        statement = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.created_at)
        if enabled_only:
            statement = statement.where(RoutingRule.enabled)
        return (await self.session.scalars(statement)).all()

    async def sla_policies(self) -> Sequence[SlaPolicy]:
        return (await self.session.scalars(select(SlaPolicy))).all()

    async def sla_policy_for(self, kind: str | None, priority: str | None) -> SlaPolicy | None:
        return await self.session.scalar(
            select(SlaPolicy).where(
                SlaPolicy.kind.is_not_distinct_from(kind),
                SlaPolicy.priority.is_not_distinct_from(priority),
            )
        )

    async def managers(self, queue: str, dealer_id: uuid.UUID | None) -> list[str]:
        """Who an escalation reminds: the queue's manager and the dealer's."""
        found = [await self.session.scalar(select(Queue.manager).where(Queue.key == queue))]
        if dealer_id:
            found.append(
                await self.session.scalar(
                    select(DealerSettings.manager).where(DealerSettings.dealer_id == dealer_id)
                )
            )
        return [manager for manager in found if manager]

    # Projections of profile

    async def upsert(
        self, model: type[SQLModel], values: dict[str, Any], *, insert_only: set[str] = frozenset()
    ) -> None:
        """Inserts a projected record or overwrites the fields given, except `insert_only`."""
        keys = [column.name for column in model.__table__.primary_key.columns]
        statement = insert(model).values(**values)
        changed = {
            name: statement.excluded[name]
            for name in values
            if name not in keys and name not in insert_only
        }
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=keys, set_=changed)
            if changed
            else statement.on_conflict_do_nothing(index_elements=keys)
        )

    async def dealer_in_city(self, city: str, prefer: uuid.UUID | None) -> KnownDealer | None:
        """A dealer in the city: the preferred one if it is there, else the first by code."""
        statement = select(KnownDealer).where(func.lower(KnownDealer.city) == city.lower())
        if prefer:
            statement = statement.order_by((KnownDealer.id == prefer).desc())
        return await self.session.scalar(statement.order_by(KnownDealer.code).limit(1))

    async def known_owner(self, owner_id: uuid.UUID | None) -> KnownOwner | None:
        return await self.session.get(KnownOwner, owner_id) if owner_id else None

    async def known_vehicle(self, vehicle_id: uuid.UUID | None) -> KnownVehicle | None:
        return await self.session.get(KnownVehicle, vehicle_id) if vehicle_id else None

    async def known_dealer(self, dealer_id: uuid.UUID | None) -> KnownDealer | None:
        return await self.session.get(KnownDealer, dealer_id) if dealer_id else None

    # Privacy

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
