"""One idempotent handler per consumed event (the inbox makes each effect happen once)."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.config import TicketsSettings
from services.tickets.service import intake, privacy, projections, routing
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

    def learned(handle):
        """A projection of an owner or vehicle: the owner's cases opened before tickets knew
        them, still without a dealer, may now be routed to one."""

        async def handler(session: AsyncSession, _: Envelope, event) -> None:
            await handle(session, event)
            await routing.route_to_learned_dealers(session, event.owner_id, now=clock())

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
        Subscription("owner_registered", OwnerRegistered, learned(projections.owner_registered)),
        Subscription(
            "vehicle_registered", VehicleRegistered, learned(projections.vehicle_registered)
        ),
        Subscription(
            "vehicle_ownership_changed",
            VehicleOwnershipChanged,
            learned(projections.vehicle_ownership_changed),
        ),
        Subscription("dtc_raised", DtcRaised, projection(projections.dtc_raised)),
        Subscription("dtc_cleared", DtcCleared, projection(projections.dtc_cleared)),
        Subscription(
            "service_visit_completed",
            ServiceVisitCompleted,
            learned(projections.service_visit_completed),
        ),
    ]
