"""SLA reporting: first-response and resolution compliance, backlog, mean time to resolve,
reopen rate and pause time by reason; by dealer, queue or kind and by day, week or month.

Cases are counted in the period they were opened (in the report's time zone), within the
caller's scope: a dealer sees its own cases, regional staff their region.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain import OPEN_STATUSES
from services.tickets.domain.sla import SlaClockKind
from services.tickets.errors import UnknownReference
from services.tickets.repository import ReportCut, TicketsRepository
from services.tickets.schemas.reports import (
    Compliance,
    ReportGroup,
    ReportPeriod,
    ReportRow,
    SlaReport,
)
from services.tickets.service.access import require_reader
from shared.auth import Caller, CallerKind
from shared.errors import Forbidden

DEFAULT_RANGE = timedelta(days=90)
MAX_RANGE = timedelta(days=2 * 366)
_HOUR = 3600.0


@dataclass
class Tally:
    """What one report cell adds up, before rates and means are taken."""

    opened: int = 0
    resolved: int = 0
    backlog: int = 0
    resolve_seconds: float = 0.0
    reopened: int = 0
    resolved_once: int = 0
    clocks: dict[str, Compliance] = field(default_factory=dict)
    paused_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, other: "Tally") -> None:
        for name in ("opened", "resolved", "backlog", "resolve_seconds", "reopened"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.resolved_once += other.resolved_once
        for kind, counts in other.clocks.items():
            mine = self.clocks.get(kind, Compliance())
            self.clocks[kind] = Compliance(
                met=mine.met + counts.met, breached=mine.breached + counts.breached
            )
        for reason, seconds in other.paused_seconds.items():
            self.paused_seconds[reason] += seconds

    def row(self, group: str | None, period_start: date | None) -> ReportRow:
        return ReportRow(
            group=group,
            period_start=period_start,
            opened=self.opened,
            resolved=self.resolved,
            backlog=self.backlog,
            mean_hours_to_resolve=_ratio(self.resolve_seconds / _HOUR, self.resolved),
            reopened=self.reopened,
            reopen_rate=_ratio(self.reopened, self.resolved_once),
            first_response=self.clocks.get(SlaClockKind.FIRST_RESPONSE, Compliance()),
            resolution=self.clocks.get(SlaClockKind.RESOLUTION, Compliance()),
            paused_hours={
                reason: round(seconds / _HOUR, 2) for reason, seconds in self.paused_seconds.items()
            },
        )


def _ratio(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def sla_report(
    session: AsyncSession,
    *,
    caller: Caller,
    group_by: ReportGroup,
    period: ReportPeriod,
    time_zone: str,
    since: datetime | None,
    until: datetime | None,
    filters: dict,
    now: datetime,
) -> SlaReport:
    if caller.kind is CallerKind.OWNER:
        raise Forbidden("Reports are for dealers and staff")
    require_reader(caller)
    until = until or now
    since = since or until - DEFAULT_RANGE
    _check_range(since, until)
    cut = ReportCut(
        caller=caller,
        group_by=group_by,
        period=period,
        time_zone=time_zone,
        since=since,
        until=until,
        filters=filters,
        open_statuses=tuple(OPEN_STATUSES),
    )
    cells = await _tally(TicketsRepository(session), cut, now)
    totals = Tally()
    for tally in cells.values():
        totals.add(tally)
    return SlaReport(
        group_by=group_by,
        period=period,
        time_zone=time_zone,
        since=since,
        until=until,
        rows=[tally.row(*key) for key, tally in sorted(cells.items(), key=_order)],
        totals=totals.row(None, None),
    )


def _check_range(since: datetime, until: datetime) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise UnknownReference.for_field("query.since", "give since and until with a UTC offset")
    if since >= until:
        raise UnknownReference.for_field("query.since", "since must be before until")
    if until - since > MAX_RANGE:
        raise UnknownReference.for_field("query.since", "a report covers at most two years")


def _order(item: tuple[tuple[str | None, date], Tally]) -> tuple[date, str]:
    (group, period_start), _ = item
    return period_start, group or ""


async def _tally(
    repository: TicketsRepository, cut: ReportCut, now: datetime
) -> dict[tuple[str | None, date], Tally]:
    cells: dict[tuple[str | None, date], Tally] = defaultdict(Tally)
    for (
        group,
        start,
        opened,
        resolved,
        backlog,
        seconds,
        reopened,
        once,
    ) in await repository.report_cases(cut):
        cell = cells[group, start]
        cell.opened, cell.resolved, cell.backlog = opened, resolved, backlog
        cell.resolve_seconds, cell.reopened, cell.resolved_once = float(seconds), reopened, once
    for group, start, kind, met, breached in await repository.report_clocks(cut):
        cells[group, start].clocks[kind] = Compliance(met=met, breached=breached)
    for group, start, reason, seconds in await repository.report_pauses(cut, now):
        cells[group, start].paused_seconds[reason] = float(seconds)
    return cells
