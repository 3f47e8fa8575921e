"""SLA clocks of cases: started from the matching policy, paused, stopped, and breached.

A clock's `due_at` column is its durable timer: the SLA worker claims due clocks with
`FOR UPDATE SKIP LOCKED`, so timers survive restarts and several workers never fire one
twice. A breach escalates the case: priority up, managers added as watchers and reminded.
"""

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import Priority
from services.tickets.domain.sla import (
    ALWAYS_OPEN,
    BusinessHours,
    Calendar,
    SlaClock,
    SlaClockKind,
    policy_rank,
)
from services.tickets.models import DealerSettings, SlaClockRow, Ticket
from services.tickets.repository import TicketsRepository
from services.tickets.service.access import SYSTEM
from services.tickets.service.history import announce, note
from shared.contracts.tickets import TicketSlaBreached

ClockChange = Callable[[SlaClock, BusinessHours | Calendar], SlaClock]


def business_hours_of(settings: DealerSettings) -> BusinessHours:
    return BusinessHours(
        time_zone=settings.time_zone,
        weekly={
            day: tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in hours)
            for day, hours in settings.weekly_hours.items()
        },
        holidays=frozenset(date.fromisoformat(day) for day in settings.holidays),
    )


async def calendar_of(
    session: AsyncSession, dealer_id: uuid.UUID | None
) -> BusinessHours | Calendar:
    settings = (
        await TicketsRepository(session).get(DealerSettings, dealer_id) if dealer_id else None
    )
    return business_hours_of(settings) if settings else ALWAYS_OPEN


def _clock(row: SlaClockRow) -> SlaClock:
    return SlaClock(
        kind=SlaClockKind(row.kind),
        target_seconds=row.target_seconds,
        consumed_seconds=row.consumed_seconds,
        running_since=row.running_since,
        stopped_at=row.stopped_at,
        breached_at=row.breached_at,
    )


def _store(row: SlaClockRow, clock: SlaClock, calendar: BusinessHours | Calendar) -> None:
    row.consumed_seconds = clock.consumed_seconds
    row.running_since = clock.running_since
    row.stopped_at = clock.stopped_at
    row.breached_at = clock.breached_at
    row.due_at = clock.due_at(calendar)


def clock_view(row: SlaClockRow) -> dict:
    clock = _clock(row)
    return {
        "kind": clock.kind,
        "target_minutes": row.target_seconds / 60,
        "due_at": row.due_at,
        "paused": clock.running_since is None and clock.stopped_at is None,
        "stopped_at": row.stopped_at,
        "breached_at": row.breached_at,
        "met": clock.met,
    }


async def start_clocks(session: AsyncSession, ticket: Ticket, at: datetime) -> list[SlaClockRow]:
    """Starts the clocks of the most specific SLA policy for the case's kind and priority."""
    repository = TicketsRepository(session)
    ranked = [
        (rank, policy)
        for policy in await repository.sla_policies()
        if (rank := policy_rank(policy.kind, policy.priority, ticket.kind, ticket.priority))
        is not None
    ]
    if not ranked:
        return []
    policy = max(ranked, key=lambda pair: pair[0])[1]
    dealer_id = ticket.dealer_id if policy.business_hours else None
    calendar = await calendar_of(session, dealer_id)
    rows = []
    for kind, minutes in (
        (SlaClockKind.FIRST_RESPONSE, policy.first_response_minutes),
        (SlaClockKind.RESOLUTION, policy.resolution_minutes),
    ):
        row = SlaClockRow(
            ticket_id=ticket.id,
            kind=kind,
            target_seconds=minutes * 60,
            business_hours_dealer_id=dealer_id,
        )
        _store(row, SlaClock.started(kind, minutes * 60, at), calendar)
        rows.append(await repository.add(row))
    return rows


async def change_clocks(
    session: AsyncSession,
    ticket: Ticket,
    change: ClockChange,
    *,
    kinds: Iterable[SlaClockKind] = tuple(SlaClockKind),
) -> None:
    wanted = set(kinds)
    for row in await TicketsRepository(session).clocks([ticket.id], for_update=True):
        if row.kind in wanted:
            calendar = await calendar_of(session, row.business_hours_dealer_id)
            _store(row, change(_clock(row), calendar), calendar)


async def pause(session: AsyncSession, ticket: Ticket, at: datetime) -> None:
    await change_clocks(session, ticket, lambda clock, calendar: clock.pause(at, calendar))


async def resume(session: AsyncSession, ticket: Ticket, at: datetime) -> None:
    await change_clocks(session, ticket, lambda clock, _: clock.resume(at))


async def stop(session: AsyncSession, ticket: Ticket, at: datetime, *kinds: SlaClockKind) -> None:
    await change_clocks(
        session, ticket, lambda clock, calendar: clock.stop(at, calendar), kinds=kinds
    )


async def restart_resolution(session: AsyncSession, ticket: Ticket, at: datetime) -> None:
    await change_clocks(
        session, ticket, lambda clock, _: clock.restart(at), kinds=[SlaClockKind.RESOLUTION]
    )


async def fire_due(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Breaches every clock due by `now` (those another worker holds are left to it)."""
    repository = TicketsRepository(session)
    fired = 0
    for row in await repository.claim_due_clocks(now, limit):
        ticket = await repository.ticket_for_breach(row.ticket_id)
        if ticket is None:
            continue  # someone is changing the case; the next pass sees the outcome
        await _breach(session, ticket, row, now)
        fired += 1
    return fired


async def _breach(session: AsyncSession, ticket: Ticket, row: SlaClockRow, now: datetime) -> None:
    due_at = row.due_at
    clock = _clock(row).breach(now)
    row.breached_at = clock.breached_at
    previous = ticket.priority
    ticket.priority = Priority(previous).raised()
    ticket.escalation_level += 1
    ticket.updated_at = now
    repository = TicketsRepository(session)
    managers = await repository.managers(ticket.queue, ticket.dealer_id)
    await repository.add_watchers(ticket.id, managers, reason="escalation", at=now)
    reminded = ", ".join(managers) or "nobody (no manager configured)"
    await note(
        session,
        ticket,
        "sla_breached",
        actor=SYSTEM,
        at=now,
        detail=(
            f"{row.kind.replace('_', ' ')} target of {row.target_seconds // 60} min passed"
            f" (due {due_at:%Y-%m-%d %H:%M} UTC); priority {previous} → {ticket.priority};"
            f" reminded {reminded}"
        ),
    )
    await announce(
        session,
        ticket,
        TicketSlaBreached(
            ticket_id=ticket.id,
            number=ticket.number,
            kind=ticket.kind,
            clock=row.kind,
            due_at=due_at,
            breached_at=now,
            previous_priority=previous,
            priority=ticket.priority,
            escalation_level=ticket.escalation_level,
            queue=ticket.queue,
            owner_id=ticket.owner_id,
            dealer_id=ticket.dealer_id,
            remind=managers,
        ),
    )
