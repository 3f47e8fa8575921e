"""Interaction events from the app, the web configurator and social connectors."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.catalogue import EVENT_TYPES, property_errors
from services.profile.domain import POINTS_FOR_EVENT, PointsCause
from services.profile.models import InteractionEvent
from services.profile.repository import ProfileRepository
from services.profile.repository.engagement import EngagementRepository
from services.profile.schemas.engagement import (
    EventTypeRead,
    InteractionBatch,
    InteractionBatchResult,
    InteractionEventIn,
)
from services.profile.service.facts import refresh_owners
from services.profile.service.loyalty import Grant, add_grants
from services.profile.service.owners import visible_owner
from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import FieldError, InvalidInput
from shared.pagination import PageParams

# Clocks drift: an event a little in the future is accepted, one far ahead is a bug.
CLOCK_SKEW = timedelta(minutes=5)


def event_types() -> list[EventTypeRead]:
    return [EventTypeRead(type=name, schema=schema) for name, schema in sorted(EVENT_TYPES.items())]


async def record_interactions(
    session: AsyncSession, *, caller: Caller, batch: InteractionBatch, now: datetime
) -> InteractionBatchResult:
    """Stores a batch all or nothing: any invalid event rejects the batch, naming its field."""
    if caller.is_staff:  # customer service on an owner's behalf; marketing and quality do not
        caller.require_staff(StaffRole.CX_AGENT)
    errors: list[FieldError] = []
    owners: list[uuid.UUID | None] = []
    for index, event in enumerate(batch.events):
        field = f"body.events.{index}"
        errors += property_errors(event.type, event.properties, field=field)
        owner_id, problem = _owner_of(event, caller)
        if problem:
            errors.append(FieldError(field=f"{field}.owner_id", message=problem))
        if event.occurred_at > now + CLOCK_SKEW:
            errors.append(FieldError(field=f"{field}.occurred_at", message="is in the future"))
        owners.append(owner_id)
    errors += await _invisible_owners(session, caller, owners)
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    rows = [
        _row(event, owner_id, now) for event, owner_id in zip(batch.events, owners, strict=True)
    ]
    stored_ids = set(await EngagementRepository(session).add_events(rows))
    stored = [row for row in rows if row["id"] in stored_ids]
    await add_grants(
        session,
        [
            Grant(row["owner_id"], POINTS_FOR_EVENT[row["type"]],
                  PointsCause.COMMUNITY_ENGAGEMENT, f"event:{row['id']}", row["type"])
            for row in stored
            if row["type"] in POINTS_FOR_EVENT
        ],
        now=now,
    )  # fmt: skip
    await refresh_owners(session, {row["owner_id"] for row in stored}, now=now)
    return InteractionBatchResult(accepted=len(stored), duplicates=len(rows) - len(stored))


def _owner_of(event: InteractionEventIn, caller: Caller) -> tuple[uuid.UUID | None, str | None]:
    if caller.kind is CallerKind.OWNER:
        if event.owner_id not in (None, caller.owner_id):
            return None, "owners send only their own events"
        return caller.owner_id, None
    if event.owner_id is None:
        return None, "required unless an owner sends their own events"
    return event.owner_id, None


async def _invisible_owners(
    session: AsyncSession, caller: Caller, owners: list[uuid.UUID | None]
) -> list[FieldError]:
    named = {owner_id for owner_id in owners if owner_id is not None}
    visible = await ProfileRepository(session).visible_owner_ids(caller, named)
    return [
        FieldError(field=f"body.events.{index}.owner_id", message=f"owner {owner_id} not found")
        for index, owner_id in enumerate(owners)
        if owner_id is not None and owner_id not in visible
    ]


def _row(event: InteractionEventIn, owner_id: uuid.UUID | None, now: datetime) -> dict:
    return {
        "id": uuid.uuid4(),
        "owner_id": owner_id,
        "type": event.type,
        "source": event.source,
        "occurred_at": event.occurred_at,
        "properties": event.properties,
        "client_event_id": event.id,
        "received_at": now,
    }


async def list_interactions(
    session: AsyncSession,
    *,
    caller: Caller,
    owner_id: uuid.UUID,
    page: PageParams,
    event_type: str | None,
) -> tuple[list[InteractionEvent], int]:
    await visible_owner(session, caller, owner_id)
    items, total = await EngagementRepository(session).events_of(
        owner_id, page, event_type=event_type
    )
    return list(items), total
