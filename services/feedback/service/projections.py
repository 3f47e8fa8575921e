"""Feedback's local view of profile's dealers, owners and vehicles, kept from their events.

Invitations need an owner's language and dealer, a vehicle's model; staff scopes need a
dealer's region. Events may arrive out of order: every write is an upsert, and fields an
earlier fact may already hold better are set only on insert.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.models import KnownDealer, KnownOwner, KnownVehicle
from services.feedback.repository import FeedbackRepository
from shared.contracts.profile import (
    DealerRegistered,
    OwnerRegistered,
    ServiceVisitCompleted,
    VehicleRegistered,
)


async def dealer_registered(session: AsyncSession, event: DealerRegistered) -> None:
    await FeedbackRepository(session).upsert(
        KnownDealer,
        {"id": event.dealer_id, "code": event.code, "name": event.name, "region": event.region},
    )


async def owner_registered(session: AsyncSession, event: OwnerRegistered) -> None:
    await FeedbackRepository(session).upsert(
        KnownOwner,
        {
            "id": event.owner_id,
            "dealer_id": event.dealer_id,
            "preferred_language": event.preferred_language,
        },
        insert_only={"dealer_id"},
    )


async def vehicle_registered(session: AsyncSession, event: VehicleRegistered) -> None:
    await FeedbackRepository(session).upsert(
        KnownVehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "model": event.model,
            "owner_id": event.owner_id,
            "dealer_id": event.servicing_dealer_id or event.selling_dealer_id,
        },
        insert_only={"dealer_id"},
    )


async def service_visit_completed(session: AsyncSession, event: ServiceVisitCompleted) -> None:
    await FeedbackRepository(session).upsert(
        KnownVehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "model": "",
            "owner_id": event.owner_id,
            "dealer_id": event.dealer_id,
        },
        insert_only={"model", "owner_id"},
    )
