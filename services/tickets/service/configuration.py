"""Configuration as data: queues, routing rules, SLA policies and dealers' business hours.

Changes take effect for the next case opened (routing, policies) or the next clock change
(business hours), without a deploy. Admins manage all of it; a dealer its own hours.
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.errors import (
    DealerSettingsNotFound,
    DuplicateQueue,
    DuplicateSlaPolicy,
    QueueNotFound,
    RoutingRuleNotFound,
    SlaPolicyNotFound,
    UnknownReference,
)
from services.tickets.models import DealerSettings, Queue, RoutingRule, SlaPolicy
from services.tickets.repository import TicketsRepository
from services.tickets.schemas.configuration import (
    DealerSettingsPut,
    QueueCreate,
    QueueUpdate,
    RoutingRuleCreate,
    SlaPolicyCreate,
)
from services.tickets.service.access import require_admin, require_reader
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams

# Queues


async def create_queue(session: AsyncSession, *, caller: Caller, data: QueueCreate) -> Queue:
    require_admin(caller)
    repository = TicketsRepository(session)
    if await repository.get(Queue, data.key):
        raise DuplicateQueue(f"Queue {data.key!r} already exists")
    return await repository.add(Queue(**data.model_dump()))


async def update_queue(
    session: AsyncSession, *, caller: Caller, key: str, data: QueueUpdate
) -> Queue:
    require_admin(caller)
    queue = await _existing(session, Queue, key, QueueNotFound)
    for name, value in data.model_dump().items():
        setattr(queue, name, value)
    return queue


async def list_queues(
    session: AsyncSession, *, caller: Caller, page: PageParams
) -> tuple[list[Queue], int]:
    _require_config_reader(caller)
    return await TicketsRepository(session).page(Queue, page, order_by=Queue.key)


# Routing rules


async def create_routing_rule(
    session: AsyncSession, *, caller: Caller, data: RoutingRuleCreate, now: datetime
) -> RoutingRule:
    require_admin(caller)
    await _check_queue(session, data.queue)
    return await TicketsRepository(session).add(
        RoutingRule(**_rule_values(data), created_at=now, updated_at=now)
    )


async def replace_routing_rule(
    session: AsyncSession,
    *,
    caller: Caller,
    rule_id: uuid.UUID,
    data: RoutingRuleCreate,
    now: datetime,
) -> RoutingRule:
    require_admin(caller)
    rule = await _existing(session, RoutingRule, rule_id, RoutingRuleNotFound)
    await _check_queue(session, data.queue)
    return _apply(rule, _rule_values(data), now)


def _rule_values(data: RoutingRuleCreate) -> dict:
    return {**data.model_dump(), "conditions": data.conditions.model_dump(mode="json")}


async def _check_queue(session: AsyncSession, key: str | None) -> None:
    if key and await TicketsRepository(session).get(Queue, key) is None:
        raise UnknownReference.for_field("body.queue", f"queue {key!r} does not exist")


async def list_routing_rules(session: AsyncSession, *, caller: Caller) -> list[RoutingRule]:
    _require_config_reader(caller)
    return list(await TicketsRepository(session).routing_rules(enabled_only=False))


async def delete_routing_rule(session: AsyncSession, *, caller: Caller, rule_id: uuid.UUID) -> None:
    await _delete(session, caller, RoutingRule, rule_id, RoutingRuleNotFound)


# SLA policies


async def create_sla_policy(
    session: AsyncSession, *, caller: Caller, data: SlaPolicyCreate, now: datetime
) -> SlaPolicy:
    require_admin(caller)
    await _check_unique_policy(session, data, None)
    return await TicketsRepository(session).add(
        SlaPolicy(**data.model_dump(), created_at=now, updated_at=now)
    )


async def replace_sla_policy(
    session: AsyncSession,
    *,
    caller: Caller,
    policy_id: uuid.UUID,
    data: SlaPolicyCreate,
    now: datetime,
) -> SlaPolicy:
    require_admin(caller)
    policy = await _existing(session, SlaPolicy, policy_id, SlaPolicyNotFound)
    await _check_unique_policy(session, data, policy_id)
    return _apply(policy, data.model_dump(), now)


async def _check_unique_policy(
    session: AsyncSession, data: SlaPolicyCreate, policy_id: uuid.UUID | None
) -> None:
    same = await TicketsRepository(session).sla_policy_for(data.kind, data.priority)
    if same is not None and same.id != policy_id:
        scope = f"kind {data.kind or 'any'}, priority {data.priority or 'any'}"
        raise DuplicateSlaPolicy(f"Policy {same.name!r} already covers {scope}")


async def list_sla_policies(session: AsyncSession, *, caller: Caller) -> list[SlaPolicy]:
    _require_config_reader(caller)
    policies = await TicketsRepository(session).sla_policies()
    return sorted(policies, key=lambda p: (p.kind or "", p.priority or "", p.name))


async def delete_sla_policy(session: AsyncSession, *, caller: Caller, policy_id: uuid.UUID) -> None:
    await _delete(session, caller, SlaPolicy, policy_id, SlaPolicyNotFound)


# Dealers' business hours and managers


def _require_own_dealer_or_admin(caller: Caller, dealer_id: uuid.UUID) -> None:
    if caller.kind is CallerKind.DEALER:
        if dealer_id not in caller.visible_dealer_ids:
            raise DealerSettingsNotFound(f"Dealer settings for {dealer_id} not found")
        return
    require_admin(caller)


async def put_dealer_settings(
    session: AsyncSession,
    *,
    caller: Caller,
    dealer_id: uuid.UUID,
    data: DealerSettingsPut,
    now: datetime,
) -> DealerSettings:
    _require_own_dealer_or_admin(caller, dealer_id)
    repository = TicketsRepository(session)
    values = {**data.model_dump(mode="json"), "updated_at": now}
    settings = await repository.get(DealerSettings, dealer_id, for_update=True)
    if settings is None:
        return await repository.add(DealerSettings(dealer_id=dealer_id, **values))
    for name, value in values.items():
        setattr(settings, name, value)
    return settings


async def get_dealer_settings(
    session: AsyncSession, *, caller: Caller, dealer_id: uuid.UUID
) -> DealerSettings:
    if caller.kind is not CallerKind.DEALER:
        _require_config_reader(caller)
    elif dealer_id not in caller.visible_dealer_ids:
        raise DealerSettingsNotFound(f"Dealer settings for {dealer_id} not found")
    return await _existing(session, DealerSettings, dealer_id, DealerSettingsNotFound)


# Shared


def _require_config_reader(caller: Caller) -> None:
    """Staff who read cases may read how they are routed; dealers and owners may not."""
    if not caller.is_staff:
        require_admin(caller)
    require_reader(caller)


async def _existing(session: AsyncSession, model, key, not_found):
    found = await TicketsRepository(session).get(model, key, for_update=True)
    if found is None:
        raise not_found(f"{model.__name__} {key} not found")
    return found


def _apply(record, values: dict, now: datetime):
    for name, value in values.items():
        setattr(record, name, value)
    record.updated_at = now
    return record


async def _delete(session: AsyncSession, caller: Caller, model, key, not_found) -> None:
    require_admin(caller)
    await TicketsRepository(session).delete(await _existing(session, model, key, not_found))
