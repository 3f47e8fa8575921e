"""One idempotent handler per consumed event (the inbox makes each effect happen once)."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.service import privacy, projections
from shared.contracts.profile import (
    ConsentChanged,
    OwnerErasureRequested,
    ServiceVisitCompleted,
    VehicleOwnershipChanged,
    VehicleRegistered,
)
from shared.messaging.consumer import Subscription
from shared.messaging.envelope import Envelope
from shared.workers import Clock


def _projection(handle):
    async def handler(session: AsyncSession, _: Envelope, event) -> None:
        await handle(session, event)

    return handler


def subscriptions(clock: Clock) -> list[Subscription]:
    async def erasure_requested(
        session: AsyncSession, _: Envelope, event: OwnerErasureRequested
    ) -> None:
        await privacy.erase_owner(session, event, now=clock())

    return [
        Subscription(
            "vehicle_registered", VehicleRegistered, _projection(projections.vehicle_registered)
        ),
        Subscription(
            "ownership_changed",
            VehicleOwnershipChanged,
            _projection(projections.ownership_changed),
        ),
        Subscription("consent_changed", ConsentChanged, _projection(projections.consent_changed)),
        Subscription(
            "service_visit_completed",
            ServiceVisitCompleted,
            _projection(projections.service_visit_completed),
        ),
        Subscription("erasure_requested", OwnerErasureRequested, erasure_requested),
    ]
