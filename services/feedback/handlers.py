"""One idempotent handler per consumed event (the inbox makes each effect happen once)."""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.config import FeedbackSettings
from services.feedback.service import privacy, projections, touchpoints
from services.feedback.service.invitations import Touch
from shared.contracts.journeys import SurveyRequested
from shared.contracts.profile import (
    DealerRegistered,
    LifecycleStageChanged,
    OrderStatusChanged,
    OwnerErasureRequested,
    OwnerRegistered,
    ServiceVisitCompleted,
    VehicleRegistered,
)
from shared.contracts.tickets import TicketResolved
from shared.messaging.consumer import Subscription
from shared.messaging.envelope import Envelope, Event
from shared.workers import Clock


# A name for every handler: `feedback_<name>` is its durable consumer and inbox key.
def subscriptions(settings: FeedbackSettings, clock: Clock) -> list[Subscription]:
    def touchpoint(to_touch: Callable[[Event], Touch | None]):
        async def handler(session: AsyncSession, _: Envelope, event: Event) -> None:
            if touch := to_touch(event):
                await touchpoints.touched(session, touch, now=clock(), settings=settings)

        return handler

    def projection(handle: Callable[[AsyncSession, Event], Awaitable[None]]):
        async def handler(session: AsyncSession, _: Envelope, event: Event) -> None:
            await handle(session, event)

        return handler

    async def survey_requested(session: AsyncSession, _: Envelope, event: Event) -> None:
        await touchpoints.survey_requested(session, event, now=clock(), settings=settings)

    async def erasure_requested(session: AsyncSession, _: Envelope, event: Event) -> None:
        await privacy.erase_owner(session, event, now=clock())

    visit = _both(
        projection(projections.service_visit_completed),
        touchpoint(touchpoints.service_visit_completed),
    )
    return [
        Subscription(
            "dealer_registered", DealerRegistered, projection(projections.dealer_registered)
        ),
        Subscription("owner_registered", OwnerRegistered, projection(projections.owner_registered)),
        Subscription(
            "vehicle_registered", VehicleRegistered, projection(projections.vehicle_registered)
        ),
        Subscription(
            "order_delivered", OrderStatusChanged, touchpoint(touchpoints.order_delivered)
        ),
        Subscription("service_visit_completed", ServiceVisitCompleted, visit),
        Subscription("ticket_resolved", TicketResolved, touchpoint(touchpoints.ticket_resolved)),
        Subscription(
            "lifecycle_stage_changed",
            LifecycleStageChanged,
            projection(projections.lifecycle_stage_changed),
        ),
        Subscription("survey_requested", SurveyRequested, survey_requested),
        Subscription("owner_erasure_requested", OwnerErasureRequested, erasure_requested),
    ]


def _both(*handlers):
    async def handler(session: AsyncSession, envelope: Envelope, event: Event) -> None:
        for handle in handlers:
            await handle(session, envelope, event)

    return handler
