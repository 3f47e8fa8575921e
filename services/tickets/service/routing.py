"""Which queue and dealer a case goes to, by the routing rules (data) and what tickets knows
of its owner and vehicle; and the dealer a case gets when those become known after it opened
(an owner calling from the app before the DMS import of their car has reached tickets)."""

import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.domain.routing import (
    CaseFacts,
    DealerStrategy,
    RoutingDecision,
    RoutingRuleSpec,
    RuleConditions,
    route,
)
from services.tickets.models import KnownOwner
from services.tickets.repository import TicketsRepository
from services.tickets.service.access import SYSTEM
from services.tickets.service.history import announce_reassigned, note

LEARNED = "dealer known after the case opened"


class Case(Protocol):
    """What routing reads of a case, opened or about to be."""

    kind: str
    category: str | None
    priority: str
    channel: str
    owner_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    dealer_id: uuid.UUID | None


async def routed(
    repository: TicketsRepository, case: Case
) -> tuple[RoutingDecision, uuid.UUID | None]:
    """The rules' decision for the case, and its dealer: the one it names, else the rule's."""
    owner = await repository.known_owner(case.owner_id)
    vehicle = await repository.known_vehicle(case.vehicle_id)
    servicing = (vehicle and vehicle.servicing_dealer_id) or (owner and owner.servicing_dealer_id)
    decision = route(
        await _rules(repository),
        CaseFacts(
            kind=case.kind,
            category=case.category,
            priority=case.priority,
            channel=case.channel,
            city=owner.city if owner else None,
            servicing_dealer_id=servicing,
            dealer_id=case.dealer_id,
        ),
    )
    return decision, case.dealer_id or await _dealer_for(repository, decision, owner, servicing)


async def route_to_learned_dealers(
    session: AsyncSession, owner_id: uuid.UUID | None, *, now: datetime
) -> None:
    """The owner's open cases routed without a dealer get the one their rule names, now that
    tickets knows the owner or vehicle; a case people have since moved to another queue (or
    whose rules have changed) is left as it is."""
    repository = TicketsRepository(session)
    for ticket in await repository.open_cases_without_dealer(owner_id) if owner_id else []:
        decision, dealer_id = await routed(repository, ticket)
        if dealer_id is None or decision.queue != ticket.queue:
            continue
        dealer = await repository.known_dealer(dealer_id)
        ticket.dealer_id, ticket.updated_at = dealer_id, now
        ticket.region = dealer.region if dealer else None
        code = dealer.code if dealer else dealer_id
        await note(
            session, ticket, "routed", actor=SYSTEM, at=now, detail=f"dealer {code}; {LEARNED}"
        )
        await announce_reassigned(
            session, ticket, previous_queue=ticket.queue, previous_assignee=ticket.assignee,
            reason=LEARNED, actor=SYSTEM, at=now,
        )  # fmt: skip


async def _rules(repository: TicketsRepository) -> list[RoutingRuleSpec]:
    return [
        RoutingRuleSpec(
            conditions=RuleConditions.model_validate(rule.conditions),
            queue=rule.queue,
            dealer_strategy=DealerStrategy(rule.dealer_strategy),
            dealer_id=rule.dealer_id,
            watchers=tuple(rule.watchers),
        )
        for rule in await repository.routing_rules(enabled_only=True)
    ]


async def _dealer_for(
    repository: TicketsRepository,
    decision: RoutingDecision,
    owner: KnownOwner | None,
    servicing: uuid.UUID | None,
) -> uuid.UUID | None:
    match decision.dealer_strategy:
        case DealerStrategy.SERVICING_DEALER:
            return servicing
        case DealerStrategy.OWNER_CITY:
            in_city = (
                await repository.dealer_in_city(owner.city, servicing)
                if owner and owner.city
                else None
            )
            return in_city.id if in_city else servicing
        case DealerStrategy.FIXED:
            return decision.dealer_id
    return None
