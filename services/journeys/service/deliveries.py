"""Hands queued deliveries to the senders of their channels.

Claimed with `FOR UPDATE SKIP LOCKED`, most urgent first (safety and recall before service
before marketing). A push waits while the owner's vehicle is moving. Each delivery's id is
the idempotency key the sender gets: should the process die after a provider accepted a
message but before the commit, the retry carries the same key and the provider drops it."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.domain.contact import Reason
from services.journeys.models import Decision, Delivery
from services.journeys.repository import JourneysRepository
from shared.contracts.journeys import MessageSent

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Outgoing:
    idempotency_key: uuid.UUID
    owner_id: uuid.UUID
    channel: str
    payload: dict[str, Any]


class Sender(Protocol):
    """One outside channel (push, SMS, e-mail, webhook); returns the provider's reference."""

    async def send(self, outgoing: Outgoing) -> str: ...


@dataclass(frozen=True)
class DeliveryRules:
    moving_retry: timedelta = timedelta(minutes=10)
    motion_stale: timedelta = timedelta(hours=12)


async def deliver_due(
    session: AsyncSession, *, senders: dict[str, Sender], now: datetime, limit: int,
    rules: DeliveryRules,
) -> int:  # fmt: skip
    repository = JourneysRepository(session)
    due = await repository.claim_deliveries(now, limit)
    pushes = [d.owner_id for d in due if d.channel == "app_push"]
    moving = await repository.moving_owners(pushes, now - rules.motion_stale) if pushes else set()
    held = [d for d in due if d.channel == "app_push" and d.owner_id in moving]
    for delivery in held:
        await _hold_while_moving(repository, delivery, now, rules)
    held_ids = {d.id for d in held}
    ready = [d for d in due if d.id not in held_ids]
    # Providers are called side by side: one slow provider must not hold the batch's locks
    # for the sum of its calls.
    sent = await asyncio.gather(*(_send(delivery, senders, now) for delivery in ready))
    await repository.record_events([
        _sent_event(delivery, now)
        for delivery, ok in zip(ready, sent, strict=True)
        if ok and delivery.channel != "webhook"
    ])  # fmt: skip
    await session.flush()
    return len(due)


async def _hold_while_moving(
    repository: JourneysRepository, delivery: Delivery, now: datetime, rules: DeliveryRules
) -> None:
    delivery.not_before = now + rules.moving_retry
    if delivery.payload.get("held_while_moving"):
        return  # logged once, however long the drive
    delivery.payload = {**delivery.payload, "held_while_moving": True}
    await repository.add(
        Decision(owner_id=delivery.owner_id, journey_key=delivery.payload.get("journey_key"),
                 instance_id=delivery.payload.get("instance_id"),
                 step_id=delivery.payload.get("step_id"), channel=delivery.channel,
                 outcome="deferred", reason=Reason.MOVING,
                 detail="no push while the vehicle is moving", at=now)
    )  # fmt: skip


async def _send(delivery: Delivery, senders: dict[str, Sender], now: datetime) -> bool:
    sender = senders.get(delivery.channel)
    outgoing = Outgoing(delivery.id, delivery.owner_id, delivery.channel, delivery.payload)
    try:
        if sender is None:
            raise LookupError(f"no sender for channel {delivery.channel!r}")
        delivery.provider_ref = (await sender.send(outgoing))[:200]
    except Exception as error:
        delivery.attempts += 1
        delivery.error = repr(error)[:2000]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
        else:
            delivery.not_before = now + timedelta(seconds=30 * 2**delivery.attempts)
        return False
    delivery.attempts += 1
    delivery.status = "sent"
    delivery.sent_at = now
    return True


def _sent_event(delivery: Delivery, now: datetime):
    event = MessageSent(
        message_id=delivery.message_id, owner_id=delivery.owner_id,
        journey_key=delivery.payload.get("journey_key"), channel=delivery.channel,
        category=delivery.category, template_key=delivery.payload.get("template_key", ""),
        sent_at=now, vehicle_id=delivery.vehicle_id,
    )  # fmt: skip
    return event, delivery.owner_id, str(delivery.message_id)
