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
    LifecycleStageChanged,
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
    repository = FeedbackRepository(session)
    if await repository.is_erased(event.owner_id):
        return  # a late event must not bring an erased owner back
    await repository.upsert(
        KnownOwner,
        {
            "id": event.owner_id,
            "dealer_id": event.dealer_id,
            "preferred_language": event.preferred_language,
        },
        insert_only={"dealer_id"},
    )


async def vehicle_registered(session: AsyncSession, event: VehicleRegistered) -> None:
    repository = FeedbackRepository(session)
    await repository.upsert(
        KnownVehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "model": event.model,
            "owner_id": await _unless_erased(repository, event.owner_id),
            "dealer_id": event.servicing_dealer_id or event.selling_dealer_id,
        },
        insert_only={"dealer_id"},
    )


async def service_visit_completed(session: AsyncSession, event: ServiceVisitCompleted) -> None:
    repository = FeedbackRepository(session)
    await repository.upsert(
        KnownVehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "model": event.model or "",
            "owner_id": await _unless_erased(repository, event.owner_id),
            "dealer_id": event.dealer_id,
        },
        insert_only={"model", "owner_id"},
    )


async def lifecycle_stage_changed(session: AsyncSession, event: LifecycleStageChanged) -> None:
    """The stage answers are reported under (an owner not yet known is created with it)."""
    repository = FeedbackRepository(session)
    if await repository.is_erased(event.owner_id):
        return
    await repository.upsert(
        KnownOwner,
        {"id": event.owner_id, "lifecycle_stage": event.stage, "preferred_language": "en"},
        insert_only={"preferred_language"},
    )


async def _unless_erased(repository: FeedbackRepository, owner_id):
    return None if await repository.is_erased(owner_id) else owner_id
