"""One idempotent handler per consumed event (the inbox makes each effect happen once):
update the local projection, then react (wake waiting instances, count conversions, enter
owners into the journeys the event triggers)."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.repository import JourneysRepository
from services.journeys.service import privacy, projections, recalls
from services.journeys.service.entry import Entrant
from services.journeys.service.reactions import react
from shared.contracts.feedback import ResponseSubmitted, SurveyInvitationCreated
from shared.contracts.profile import (
    ConsentChanged,
    HouseholdMembershipChanged,
    LifecycleStageChanged,
    OwnerErasureRequested,
    OwnerRegistered,
    OwnersMerged,
    SegmentMembershipChanged,
    ServiceVisitCompleted,
    VehicleOwnershipChanged,
    VehicleRegistered,
)
from shared.contracts.telematics import DtcRaised, QualityAlertRaised, TripCompleted, TripStarted
from shared.contracts.tickets import TicketCreated, TicketResolved
from shared.database import once_a_transaction
from shared.messaging.consumer import Subscription, fetched_events
from shared.messaging.envelope import Envelope, Event

Clock = Callable[[], datetime]

# Facts never copied into an instance's context (the invitation's token is in its link).
_PRIVATE = {"token"}


def event_name(contract: type[Event]) -> str:
    kind = contract.event_type
    return f"{kind.service}.{kind.entity}.{kind.verb}"


def facts(event: Event) -> dict[str, Any]:
    """The event's flat facts, as a journey's context and conditions see them."""
    data = event.model_dump(mode="json")
    return {k: v for k, v in data.items() if k not in _PRIVATE and not isinstance(v, dict)}


def quality_alert_entrants(event: QualityAlertRaised) -> list[Entrant]:
    """One entrant per target vehicle with an owner, most urgent first."""
    alert = {k: v for k, v in facts(event).items() if k != "targets"}
    return [
        Entrant(
            target.owner_id,
            {
                **alert,
                **target.model_dump(mode="json"),
                "dealer_id": str(target.servicing_dealer_id)
                if target.servicing_dealer_id
                else None,
                "source_type": "quality_alert",
                "source_id": f"{event.alert_id}:{target.vehicle_id}",
            },
        )
        for target in event.targets
        if target.owner_id is not None
    ]


def owner_entrants(event: Event) -> list[Entrant]:
    owner_id = getattr(event, "owner_id", None)
    if owner_id is None:
        return []
    context = facts(event)
    if "servicing_dealer_id" in context and not context.get("dealer_id"):
        context["dealer_id"] = context["servicing_dealer_id"]
    return [Entrant(owner_id, context)]


# Consumed events: (durable name, contract, projection or None, entrants).
CONSUMED = [
    ("owner_registered", OwnerRegistered, projections.owner_registered, owner_entrants),
    ("vehicle_registered", VehicleRegistered, projections.vehicle_registered, owner_entrants),
    ("ownership_changed", VehicleOwnershipChanged, projections.ownership_changed, None),
    ("consent_changed", ConsentChanged, projections.consent_changed, None),
    ("household_changed", HouseholdMembershipChanged, projections.household_changed, None),
    ("owners_merged", OwnersMerged, projections.owners_merged, None),
    ("segment_changed", SegmentMembershipChanged, projections.segment_changed, owner_entrants),
    ("lifecycle_changed", LifecycleStageChanged, projections.lifecycle_changed, owner_entrants),
    ("service_visit_completed", ServiceVisitCompleted, recalls.visit_completed, owner_entrants),
    ("invitation_created", SurveyInvitationCreated, None, owner_entrants),
    ("response_submitted", ResponseSubmitted, None, owner_entrants),
    ("ticket_created", TicketCreated, None, owner_entrants),
    ("ticket_resolved", TicketResolved, None, owner_entrants),
    ("trip_started", TripStarted, projections.trip_started, None),
    ("trip_completed", TripCompleted, projections.trip_completed, owner_entrants),
    ("dtc_raised", DtcRaised, None, owner_entrants),
    ("quality_alert_raised", QualityAlertRaised, None, quality_alert_entrants),
]


def subscriptions(clock: Clock) -> list[Subscription]:
    def handler(contract, project, entrants_of):
        name = event_name(contract)

        async def handle(session: AsyncSession, envelope: Envelope, event: Event) -> None:
            owner_id = getattr(event, "owner_id", None)
            if owner_id and await _erased(session, owner_id):
                return  # late news about an erased owner is dropped
            if project is not None:
                await project(session, event)
            if entrants_of is not None:
                entrants = entrants_of(event)
                if entrants:
                    await react(session, name, entrants, event_id=envelope.id, now=clock())

        return handle

    async def erasure_requested(
        session: AsyncSession, _: Envelope, event: OwnerErasureRequested
    ) -> None:
        await privacy.erase(session, event, now=clock())

    return [
        Subscription(name, contract, handler(contract, project, entrants_of))
        for name, contract, project, entrants_of in CONSUMED
    ] + [Subscription("erasure_requested", OwnerErasureRequested, erasure_requested)]


async def _erased(session: AsyncSession, owner_id: uuid.UUID) -> bool:
    """Asked once for the owners of all the events the transaction handles."""
    owners = {getattr(event, "owner_id", None) for event in fetched_events(session)}
    owners = frozenset(owners - {None} | {owner_id})

    async def ask() -> set[uuid.UUID]:
        return await JourneysRepository(session).erased(list(owners))

    return owner_id in await once_a_transaction(session, ("erased", owners), ask)
