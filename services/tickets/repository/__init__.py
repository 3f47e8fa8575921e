"""Every tickets query. Reads of cases take the caller and apply its scope; writes flush only."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.tickets.domain import OPEN_STATUSES
from services.tickets.models import (
    DealerSettings,
    KnownDealer,
    KnownFault,
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
from services.tickets.repository.base import BaseRepository, ticket_scope
from services.tickets.repository.privacy import PrivacyQueries
from services.tickets.repository.reports import ReportCut, ReportQueries
from shared.auth import Caller
from shared.database import every_dealer
from shared.pagination import PageParams

__all__ = ["BaseRepository", "ReportCut", "TicketsRepository", "ticket_scope"]


class TicketsRepository(ReportQueries, PrivacyQueries):
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

    async def open_cases_without_dealer(self, owner_id: uuid.UUID) -> Sequence[Ticket]:
        rows = await self.session.scalars(
            select(Ticket)
            .where(
                Ticket.owner_id == owner_id,
                Ticket.dealer_id.is_(None),
                Ticket.status.in_(OPEN_STATUSES),
            )
            .order_by(Ticket.number)
            .with_for_update()
        )
        return rows.all()

    async def lock_source(self, source_type: str, source_id: str) -> Ticket | None:
        """Serialises openings from one source (so two deliveries cannot both open a case)
        and returns the case it already opened, if any: whoever's it is (the source is unique
        across dealers), for the caller to refuse in its own words if not theirs."""
        key = func.hashtext(f"{source_type}:{source_id}")
        await self.session.execute(select(func.pg_advisory_xact_lock(key)))
        async with every_dealer(self.session):
            return await self.session.scalar(
                select(Ticket).where(
                    Ticket.source_type == source_type, Ticket.source_id == source_id
                )
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

    async def active_faults(self, vehicle_ids: Iterable[uuid.UUID]) -> Sequence[KnownFault]:
        return (
            await self.session.scalars(
                select(KnownFault)
                .where(KnownFault.vehicle_id.in_(list(vehicle_ids)))
                .order_by(KnownFault.raised_at.desc())
            )
        ).all()

    async def known_dealer(self, dealer_id: uuid.UUID | None) -> KnownDealer | None:
        return await self.session.get(KnownDealer, dealer_id) if dealer_id else None
