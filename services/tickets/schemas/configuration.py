"""Tickets' configuration models: queues, routing rules, SLA policies, dealers' hours."""

import uuid
from datetime import date, datetime, time
from typing import Annotated, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from services.tickets.domain import Priority, TicketKind
from services.tickets.domain.routing import DealerStrategy, RuleConditions
from services.tickets.domain.sla import business_hours_problem, time_zone_problem
from services.tickets.schemas import Body, Key, Name, Read, Watcher
from shared.pagination import Page

Minutes = Annotated[int, Field(ge=1, le=366 * 24 * 60)]


def _known_time_zone(name: str) -> str:
    if problem := time_zone_problem(name):
        raise ValueError(problem)
    return name


TimeZone = Annotated[str, AfterValidator(_known_time_zone)]


Members = Annotated[list[Watcher], Field(max_length=200)]


class QueueUpdate(Body):
    name: Name
    manager: Watcher | None = None
    # The agents who work the queue; when set, a case is assigned only to one of them.
    members: Members = []


class QueueCreate(QueueUpdate):
    key: Key


class QueueRead(Read):
    key: str
    name: str
    manager: str | None
    members: list[str]
    created_at: datetime


class RoutingRuleCreate(Body):
    name: Name
    position: int = Field(ge=0, le=100_000)
    enabled: bool = True
    conditions: RuleConditions = RuleConditions()
    queue: Key | None = None
    dealer_strategy: DealerStrategy = DealerStrategy.NONE
    dealer_id: uuid.UUID | None = None
    watchers: list[Watcher] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.dealer_strategy is DealerStrategy.FIXED) != (self.dealer_id is not None):
            raise ValueError("dealer_id is required with, and only with, dealer_strategy 'fixed'")
        if self.queue is None and not self.watchers:
            raise ValueError("a rule must set a queue or add watchers")
        return self


class RoutingRuleRead(Read):
    id: uuid.UUID
    name: str
    position: int
    enabled: bool
    conditions: RuleConditions
    queue: str | None
    dealer_strategy: DealerStrategy
    dealer_id: uuid.UUID | None
    watchers: list[str]
    created_at: datetime
    updated_at: datetime


class SlaPolicyCreate(Body):
    name: Name
    kind: TicketKind | None = None
    priority: Priority | None = None
    first_response_minutes: Minutes
    resolution_minutes: Minutes
    business_hours: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.resolution_minutes < self.first_response_minutes:
            raise ValueError("resolution_minutes cannot be shorter than first_response_minutes")
        return self


class SlaPolicyRead(Read):
    id: uuid.UUID
    name: str
    kind: TicketKind | None
    priority: Priority | None
    first_response_minutes: int
    resolution_minutes: int
    business_hours: bool
    created_at: datetime
    updated_at: datetime


OpeningHours = tuple[time, time]


def _valid_week(weekly: dict[str, list[OpeningHours]]) -> dict[str, list[OpeningHours]]:
    if problem := business_hours_problem(weekly):
        raise ValueError(problem)
    return weekly


class DealerSettingsPut(Body):
    time_zone: TimeZone
    weekly_hours: Annotated[dict[str, list[OpeningHours]], AfterValidator(_valid_week)]
    holidays: list[date] = Field(default_factory=list, max_length=400)
    manager: Watcher | None = None


class DealerSettingsRead(DealerSettingsPut):
    model_config = ConfigDict(from_attributes=True)

    dealer_id: uuid.UUID
    updated_at: datetime


QueuePage = Page[QueueRead]
RoutingRulePage = Page[RoutingRuleRead]
SlaPolicyPage = Page[SlaPolicyRead]
