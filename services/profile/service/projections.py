"""Local projections of other services' events: profile answers the 360 view from these and
never calls those services on a read. Each projection then refreshes the owner's facts, so
lifecycle and segments follow (event-driven re-evaluation)."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import POINTS_FOR_SURVEY_ANSWER, PointsCause
from services.profile.errors import InsufficientPoints
from services.profile.models import (
    BehaviourSnapshot,
    ErasureConfirmation,
    FeedbackScore,
    Owner,
    ServiceDue,
    TicketProjection,
)
from services.profile.repository.facts import FactsRepository
from services.profile.repository.privacy import PrivacyRepository
from services.profile.service.facts import refresh_before_commit
from services.profile.service.loyalty import add_points
from shared.contracts.feedback import ResponseSubmitted
from shared.contracts.journeys import PointsAwarded, TagChanged
from shared.contracts.privacy import ErasureCompleted
from shared.contracts.telematics import DrivingBehaviourUpdated, ServiceDuePredicted
from shared.contracts.tickets import TicketCreated, TicketResolved, TicketStatusChanged
from shared.messaging.consumer import PoisonMessage

CLOSED_TICKET_STATUSES = frozenset({"resolved", "closed"})


async def response_submitted(session: AsyncSession, event: ResponseSubmitted, now: datetime):
    await FactsRepository(session).upsert(
        FeedbackScore,
        {
            "response_id": event.response_id,
            "owner_id": event.owner_id,
            "kind": event.kind,
            "score": event.score,
            "band": event.band,
            "touchpoint": event.touchpoint,
            "dealer_id": event.dealer_id,
            "submitted_at": event.submitted_at,
        },
    )
    if await _known(session, event.owner_id):
        await add_points(
            session,
            owner_id=event.owner_id,
            points=POINTS_FOR_SURVEY_ANSWER,
            cause=PointsCause.SURVEY_ANSWER,
            reference=f"survey:{event.response_id}",
            now=now,
            note=f"{event.kind} survey at {event.touchpoint}",
        )
    refresh_before_commit(session, event.owner_id, now=now)


async def ticket_created(session: AsyncSession, event: TicketCreated, now: datetime) -> None:
    await _ticket(
        session,
        event.ticket_id,
        values={
            "owner_id": event.owner_id,
            "dealer_id": event.dealer_id,
            "number": event.number,
            "kind": event.kind,
            "category": event.category,
            "priority": event.priority,
            "created_at": event.created_at,
        },
        status=event.status,
        at=event.created_at,
        now=now,
    )


async def ticket_status_changed(
    session: AsyncSession, event: TicketStatusChanged, now: datetime
) -> None:
    values = {"owner_id": event.owner_id, "dealer_id": event.dealer_id, "number": event.number}
    values |= {"kind": event.kind, "created_at": event.changed_at}
    await _ticket(
        session, event.ticket_id, values=values, status=event.status, at=event.changed_at, now=now
    )


async def ticket_resolved(session: AsyncSession, event: TicketResolved, now: datetime) -> None:
    values = {"owner_id": event.owner_id, "dealer_id": event.dealer_id, "number": event.number}
    values |= {"kind": event.kind, "category": event.category, "created_at": event.resolved_at}
    await _ticket(
        session, event.ticket_id, values=values, status="resolved", at=event.resolved_at, now=now
    )


async def _ticket(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    *,
    values: dict,
    status: str,
    at: datetime,
    now: datetime,
) -> None:
    """Events of one case may arrive in any order: the latest status wins, and whichever
    event comes first creates the row."""
    repository = FactsRepository(session)
    ticket = await repository.ticket(ticket_id)
    if ticket is None:
        ticket = TicketProjection(ticket_id=ticket_id, status=status, changed_at=at, **values)
        ticket.open = status not in CLOSED_TICKET_STATUSES
        session.add(ticket)
    elif at >= ticket.changed_at:
        ticket.status = status
        ticket.changed_at = at
        ticket.open = status not in CLOSED_TICKET_STATUSES
        ticket.category = ticket.category or values.get("category")
    if "priority" in values:  # only the creation carries the full record
        ticket.created_at = values["created_at"]
        ticket.priority = values["priority"]
        ticket.category = values.get("category") or ticket.category
    await session.flush()
    if ticket.owner_id:
        refresh_before_commit(session, ticket.owner_id, now=now)


async def behaviour_updated(
    session: AsyncSession, event: DrivingBehaviourUpdated, now: datetime
) -> None:
    harsh = event.harsh_accelerations_per_100km + event.harsh_brakings_per_100km
    values = event.model_dump(
        include={"vehicle_id", "owner_id", "trips", "assisted_driving_share", "night_share",
                 "new_apps", "destination_categories", "computed_at"}
    )  # fmt: skip
    values |= {"distance_km": event.distance_km, "harsh_events_per_100km": harsh}
    await _keep_latest(session, BehaviourSnapshot, values, stamp="computed_at", now=now)


async def service_due_predicted(
    session: AsyncSession, event: ServiceDuePredicted, now: datetime
) -> None:
    values = event.model_dump(
        include={"vehicle_id", "owner_id", "due_date", "reason", "predicted_at"}
    )
    await _keep_latest(session, ServiceDue, values, stamp="predicted_at", now=now)


async def _keep_latest(
    session: AsyncSession, model: type, values: dict, *, stamp: str, now: datetime
) -> None:
    """Keeps each vehicle's latest fact: one older than the stored one arrived late."""
    repository = FactsRepository(session)
    current = await repository.of_vehicle(model, values["vehicle_id"])
    if current is not None and getattr(current, stamp) > values[stamp]:
        return
    await repository.upsert(model, values)
    if values["owner_id"]:
        refresh_before_commit(session, values["owner_id"], now=now)


async def points_awarded(session: AsyncSession, event: PointsAwarded, now: datetime) -> None:
    if not await _known(session, event.owner_id):
        raise PoisonMessage(f"owner {event.owner_id} is not known to profile")
    try:
        await add_points(
            session,
            owner_id=event.owner_id,
            points=event.points,
            cause=PointsCause.JOURNEY,
            reference=f"journey:{event.request_id}",
            now=now,
            note=f"{event.journey_key}: {event.reason}",
        )
    except InsufficientPoints as error:
        raise PoisonMessage(error.detail) from error
    refresh_before_commit(session, event.owner_id, now=now)


async def tag_changed(session: AsyncSession, event: TagChanged, now: datetime) -> None:
    if not await _known(session, event.owner_id):
        raise PoisonMessage(f"owner {event.owner_id} is not known to profile")
    repository = FactsRepository(session)
    if event.added:
        await repository.tag(
            event.owner_id, event.tag, f"journey:{event.journey_key}", event.changed_at
        )
    else:
        await repository.untag(event.owner_id, event.tag)
    refresh_before_commit(session, event.owner_id, now=now)


async def erasure_completed(session: AsyncSession, event: ErasureCompleted) -> None:
    """Records one service's confirmation on the request; the last one completes it."""
    repository = PrivacyRepository(session)
    request = await repository.erasure_request(event.request_id, for_update=True)
    if request is None:
        return  # another profile deployment's request (shared broker): not ours to record
    await repository.confirm(
        ErasureConfirmation(
            request_id=request.id,
            service=event.service,
            records_erased=event.records_erased,
            completed_at=event.completed_at,
        )
    )
    confirmed = {c.service for c in await repository.confirmations(request.id)}
    if request.completed_at is None and set(request.expected_services) <= confirmed:
        request.completed_at = event.completed_at


async def _known(session: AsyncSession, owner_id: uuid.UUID) -> bool:
    return await session.get(Owner, owner_id) is not None
