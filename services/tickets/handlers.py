"""One idempotent handler per consumed event (the inbox makes each effect happen once)."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.config import TicketsSettings
from services.tickets.service import intake, privacy, projections
from shared.contracts.feedback import DetractorDetected, PostFlagged
from shared.contracts.journeys import TicketRequested
from shared.contracts.profile import (
    DealerRegistered,
    LeadCreated,
    OwnerErasureRequested,
    OwnerRegistered,
    ServiceVisitCompleted,
    VehicleOwnershipChanged,
    VehicleRegistered,
)
from shared.contracts.telematics import DtcCleared, DtcRaised
from shared.messaging.consumer import Subscription
from shared.messaging.envelope import Envelope
from shared.workers import Clock


def subscriptions(settings: TicketsSettings, clock: Clock) -> list[Subscription]:
    def timed(handle):
        """A handler whose effect happens at the service's clock (controllable in tests)."""

        async def handler(session: AsyncSession, _: Envelope, event) -> None:
            await handle(session, event, now=clock())

        return handler

    async def detractor_detected(
        session: AsyncSession, _: Envelope, event: DetractorDetected
    ) -> None:
        await intake.open_from_detractor(
            session, event, now=clock(), reopen_window=settings.reopen_window
        )

    def projection(handle):
        async def handler(session: AsyncSession, _: Envelope, event) -> None:
            await handle(session, event)

        return handler

    return [
        Subscription("post_flagged", PostFlagged, timed(intake.open_from_post)),
        Subscription("lead_created", LeadCreated, timed(intake.open_from_lead)),
        Subscription("ticket_requested", TicketRequested, timed(intake.open_from_journey)),
        Subscription("owner_erasure_requested", OwnerErasureRequested, timed(privacy.erase_owner)),
        Subscription("detractor_detected", DetractorDetected, detractor_detected),
        Subscription(
            "dealer_registered", DealerRegistered, projection(projections.dealer_registered)
        ),
        Subscription("owner_registered", OwnerRegistered, projection(projections.owner_registered)),
        Subscription(
            "vehicle_registered", VehicleRegistered, projection(projections.vehicle_registered)
        ),
        Subscription(
            "vehicle_ownership_changed",
            VehicleOwnershipChanged,
            projection(projections.vehicle_ownership_changed),
        ),
        Subscription("dtc_raised", DtcRaised, projection(projections.dtc_raised)),
        Subscription("dtc_cleared", DtcCleared, projection(projections.dtc_cleared)),
        Subscription(
            "service_visit_completed",
            ServiceVisitCompleted,
            projection(projections.service_visit_completed),
        ),
    ]
