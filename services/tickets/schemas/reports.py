"""Tickets' SLA report: cases opened, resolved and within target, per group and period."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, computed_field

from services.tickets.domain import PauseReason


class ReportGroup(StrEnum):
    DEALER = "dealer"
    QUEUE = "queue"
    KIND = "kind"


class ReportPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Compliance(BaseModel):
    """Targets met and missed; clocks still running count for neither."""

    met: int = 0
    breached: int = 0

    @computed_field
    @property
    def rate(self) -> float | None:
        decided = self.met + self.breached
        return round(self.met / decided, 4) if decided else None


class ReportRow(BaseModel):
    """Cases opened in one period (for `totals`, the whole range) in one group."""

    group: str | None
    period_start: date | None
    opened: int = 0
    resolved: int = 0
    backlog: int = 0
    mean_hours_to_resolve: float | None = None
    reopened: int = 0
    reopen_rate: float | None = None
    first_response: Compliance = Compliance()
    resolution: Compliance = Compliance()
    paused_hours: dict[PauseReason, float] = {}


class SlaReport(BaseModel):
    group_by: ReportGroup
    period: ReportPeriod
    time_zone: str
    since: datetime
    until: datetime
    rows: list[ReportRow]
    totals: ReportRow
