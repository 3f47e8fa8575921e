"""Routing: which queue, dealer and watchers a new case gets, from ordered rules."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.tickets.domain import Channel, Priority, TicketKind


class DealerStrategy(StrEnum):
    NONE = "none"
    SERVICING_DEALER = "servicing_dealer"
    OWNER_CITY = "owner_city"
    FIXED = "fixed"


@dataclass(frozen=True)
class CaseFacts:
    kind: TicketKind
    category: str | None
    priority: Priority
    channel: Channel
    city: str | None
    servicing_dealer_id: uuid.UUID | None
    # The dealer the case is already at (a lead names its dealer), if any.
    dealer_id: uuid.UUID | None = None


class RuleConditions(BaseModel):
    """All listed conditions must hold; an empty list means any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: list[TicketKind] = []
    categories: list[str] = []
    priorities: list[Priority] = []
    channels: list[Channel] = []
    cities: list[str] = []
    servicing_dealer_ids: list[uuid.UUID] = []
    dealer_ids: list[uuid.UUID] = []

    def matches(self, facts: CaseFacts) -> bool:
        checks = (
            (self.kinds, facts.kind),
            (self.categories, facts.category),
            (self.priorities, facts.priority),
            (self.channels, facts.channel),
            (self.cities, facts.city),
            (self.servicing_dealer_ids, facts.servicing_dealer_id),
            (self.dealer_ids, facts.dealer_id),
        )
        return all(not allowed or value in allowed for allowed, value in checks)


@dataclass(frozen=True)
class RoutingRuleSpec:
    conditions: RuleConditions
    queue: str | None
    dealer_strategy: DealerStrategy
    dealer_id: uuid.UUID | None
    watchers: tuple[str, ...]


@dataclass(frozen=True)
class RoutingDecision:
    queue: str
    dealer_strategy: DealerStrategy
    dealer_id: uuid.UUID | None
    watchers: tuple[str, ...]


DEFAULT_QUEUE = "first_line"


def route(rules: Iterable[RoutingRuleSpec], facts: CaseFacts) -> RoutingDecision:
    """The first matching rule that names a queue decides queue and dealer; every matching
    rule adds its watchers. With no match the case goes to first-line customer service."""
    decided: RoutingRuleSpec | None = None
    watchers: list[str] = []
    for rule in rules:
        if not rule.conditions.matches(facts):
            continue
        watchers.extend(w for w in rule.watchers if w not in watchers)
        if decided is None and rule.queue is not None:
            decided = rule
    if decided is None:
        return RoutingDecision(DEFAULT_QUEUE, DealerStrategy.NONE, None, tuple(watchers))
    return RoutingDecision(
        decided.queue or DEFAULT_QUEUE, decided.dealer_strategy, decided.dealer_id, tuple(watchers)
    )
