"""One idempotent handler per consumed event (the inbox makes each effect happen once)."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.service import personal, projections
from shared.contracts.feedback import (
    FeedbackErasureCompleted,
    FeedbackOwnerDataExported,
    ResponseSubmitted,
)
from shared.contracts.journeys import (
    JourneysErasureCompleted,
    JourneysOwnerDataExported,
    PointsAwarded,
    TagChanged,
)
from shared.contracts.telematics import (
    DrivingBehaviourUpdated,
    ServiceDuePredicted,
    TelematicsErasureCompleted,
    TelematicsOwnerDataExported,
)
from shared.contracts.tickets import (
    TicketCreated,
    TicketResolved,
    TicketsErasureCompleted,
    TicketsOwnerDataExported,
    TicketStatusChanged,
)
from shared.messaging.consumer import Handler, Subscription
from shared.messaging.envelope import Envelope, Event
from shared.workers import Clock

# The other services' answers to OwnerErasureRequested (profile records its own directly).
ERASURE_CONFIRMATIONS = (
    FeedbackErasureCompleted,
    TicketsErasureCompleted,
    TelematicsErasureCompleted,
    JourneysErasureCompleted,
)
# The other services' staff exports, for the owner's audit log (profile audits its own).
STAFF_EXPORTS = (
    FeedbackOwnerDataExported,
    TicketsOwnerDataExported,
    TelematicsOwnerDataExported,
    JourneysOwnerDataExported,
)


def subscriptions(clock: Clock) -> list[Subscription]:
    def timed(handle: Callable[[AsyncSession, Event, datetime], Awaitable[None]]) -> Handler:
        async def handler(session: AsyncSession, _: Envelope, event: Event) -> None:
            await handle(session, event, clock())

        return handler

    async def erasure(session: AsyncSession, _: Envelope, event: Event) -> None:
        await projections.erasure_completed(session, event)

    async def exported(session: AsyncSession, envelope: Envelope, event: Event) -> None:
        await personal.audit_export_elsewhere(session, event, entry_id=envelope.id)

    return [
        Subscription(
            "response_submitted", ResponseSubmitted, timed(projections.response_submitted)
        ),
        Subscription("ticket_created", TicketCreated, timed(projections.ticket_created)),
        Subscription(
            "ticket_status_changed", TicketStatusChanged, timed(projections.ticket_status_changed)
        ),
        Subscription("ticket_resolved", TicketResolved, timed(projections.ticket_resolved)),
        Subscription(
            "behaviour_updated", DrivingBehaviourUpdated, timed(projections.behaviour_updated)
        ),
        Subscription(
            "service_due_predicted", ServiceDuePredicted, timed(projections.service_due_predicted)
        ),
        Subscription("points_awarded", PointsAwarded, timed(projections.points_awarded)),
        Subscription("tag_changed", TagChanged, timed(projections.tag_changed)),
        *(
            Subscription(f"{contract.event_type.service}_erasure_completed", contract, erasure)
            for contract in ERASURE_CONFIRMATIONS
        ),
        *(
            Subscription(f"{contract.event_type.service}_owner_data_exported", contract, exported)
            for contract in STAFF_EXPORTS
        ),
    ]
