"""Report queries: cases, SLA clocks and pauses counted per group and period."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Date,
    String,
    and_,
    cast,
    extract,
    func,
    or_,
    select,
    text,
)

from services.tickets.models import (
    SlaClockRow,
    Ticket,
    TicketPause,
)
from services.tickets.repository.base import BaseRepository, ticket_scope
from shared.auth import Caller


@dataclass(frozen=True)
class ReportCut:
    """Which cases a report counts (the caller's scope, opened in [since, until), filters)
    and how it groups them (a column, and a period in a time zone)."""

    caller: Caller
    group_by: str
    period: str
    time_zone: str
    since: datetime
    until: datetime
    filters: dict[str, Any]
    open_statuses: tuple[str, ...]

    def keys(self) -> tuple[Any, Any]:
        group = {
            "dealer": cast(Ticket.dealer_id, String),
            "queue": Ticket.queue,
            "kind": Ticket.kind,
        }[self.group_by]
        local = func.timezone(self.time_zone, Ticket.created_at)
        return group.label("group"), cast(func.date_trunc(self.period, local), Date).label("period")

    def narrow(self, statement, *extra_keys):
        """Scopes and groups a statement whose first two columns are `keys()` (grouped by
        position: the period's bound parameters would not match a repeated expression)."""
        filters = [getattr(Ticket, name) == value for name, value in self.filters.items() if value]
        return statement.where(
            ticket_scope(self.caller),
            Ticket.created_at >= self.since,
            Ticket.created_at < self.until,
            *filters,
        ).group_by(text("1"), text("2"), *extra_keys)


class ReportQueries(BaseRepository):
    # Reports

    async def report_cases(self, cut: ReportCut) -> Sequence[Any]:
        """Per group and period: opened, resolved, still open, seconds to resolve, reopened
        and ever resolved."""
        group, bucket = cut.keys()
        resolved_once = or_(Ticket.resolved_at.is_not(None), Ticket.reopen_count > 0)
        statement = select(
            group,
            bucket,
            func.count(),
            func.count(Ticket.resolved_at),
            func.count().filter(Ticket.status.in_(cut.open_statuses)),
            func.coalesce(func.sum(extract("epoch", Ticket.resolved_at - Ticket.created_at)), 0),
            func.count().filter(Ticket.reopen_count > 0),
            func.count().filter(resolved_once),
        )
        return (await self.session.execute(cut.narrow(statement))).all()

    async def report_clocks(self, cut: ReportCut) -> Sequence[Any]:
        """Per group, period and clock: targets met and missed (clocks still running count
        for neither)."""
        group, bucket = cut.keys()
        stopped = SlaClockRow.stopped_at.is_not(None)
        over = SlaClockRow.consumed_seconds > SlaClockRow.target_seconds
        statement = select(
            group,
            bucket,
            SlaClockRow.kind,
            func.count().filter(stopped, SlaClockRow.breached_at.is_(None), ~over),
            func.count().filter(or_(SlaClockRow.breached_at.is_not(None), and_(stopped, over))),
        ).join(SlaClockRow, SlaClockRow.ticket_id == Ticket.id)
        return (await self.session.execute(cut.narrow(statement, SlaClockRow.kind))).all()

    async def report_pauses(self, cut: ReportCut, now: datetime) -> Sequence[Any]:
        """Per group, period and reason: seconds the clocks stood still (until now if open)."""
        group, bucket = cut.keys()
        span = func.coalesce(TicketPause.ended_at, now) - TicketPause.started_at
        statement = select(
            group, bucket, TicketPause.reason, func.sum(extract("epoch", span))
        ).join(TicketPause, TicketPause.ticket_id == Ticket.id)
        return (await self.session.execute(cut.narrow(statement, TicketPause.reason))).all()
