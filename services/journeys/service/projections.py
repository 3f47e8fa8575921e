"""Journeys' local view of profile and telematics facts, kept from their events: contact
language, consents, segments, vehicles and whether each is moving. Events may arrive out
of order: writes are upserts, and a consent older than the one held is ignored."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.models import KnownOwner, KnownVehicle, OwnerConsent, OwnerSegment
from services.journeys.repository import JourneysRepository
from shared.contracts.profile import (
    ConsentChanged,
    HouseholdMembershipChanged,
    LifecycleStageChanged,
    OwnerRegistered,
    OwnersMerged,
    SegmentMembershipChanged,
    VehicleOwnershipChanged,
    VehicleRegistered,
)
from shared.contracts.telematics import TripCompleted, TripStarted


async def owner_registered(session: AsyncSession, event: OwnerRegistered) -> None:
    await JourneysRepository(session).upsert(
        KnownOwner,
        {"id": event.owner_id, "dealer_id": event.dealer_id, "language": event.preferred_language},
    )


async def vehicle_registered(session: AsyncSession, event: VehicleRegistered) -> None:
    await JourneysRepository(session).upsert(
        KnownVehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "owner_id": event.owner_id,
            "servicing_dealer_id": event.servicing_dealer_id or event.selling_dealer_id,
            "model": event.model,
            "delivery_date": event.delivery_date,
        },
    )


async def ownership_changed(session: AsyncSession, event: VehicleOwnershipChanged) -> None:
    values = {"id": event.vehicle_id, "vin": event.vin, "owner_id": event.owner_id}
    if event.servicing_dealer_id:
        values["servicing_dealer_id"] = event.servicing_dealer_id
    await JourneysRepository(session).upsert(KnownVehicle, values)


async def consent_changed(session: AsyncSession, event: ConsentChanged) -> None:
    repository = JourneysRepository(session)
    held = await repository.get(
        OwnerConsent, (event.owner_id, event.purpose, event.channel), for_update=True
    )
    if held is not None and held.changed_at > event.changed_at:
        return
    await repository.upsert(
        OwnerConsent,
        {"owner_id": event.owner_id, "purpose": event.purpose, "channel": event.channel,
         "granted": event.granted, "changed_at": event.changed_at},
    )  # fmt: skip


async def segment_changed(session: AsyncSession, event: SegmentMembershipChanged) -> None:
    if event.entered:
        await JourneysRepository(session).upsert(
            OwnerSegment, {"owner_id": event.owner_id, "segment_key": event.segment_key}
        )
        return
    await JourneysRepository(session).leave_segment(event.owner_id, event.segment_key)


async def lifecycle_changed(session: AsyncSession, event: LifecycleStageChanged) -> None:
    await JourneysRepository(session).upsert(
        KnownOwner, {"id": event.owner_id, "lifecycle_stage": event.stage}
    )


async def trip_started(session: AsyncSession, event: TripStarted) -> None:
    await JourneysRepository(session).upsert(
        KnownVehicle,
        {"id": event.vehicle_id, "vin": event.vin, "moving_since": event.started_at},
    )


async def trip_completed(session: AsyncSession, event: TripCompleted) -> None:
    """Parked again, unless a later trip has already started."""
    await JourneysRepository(session).parked(event.vehicle_id, event.vin, event.ended_at)


async def household_changed(session: AsyncSession, event: HouseholdMembershipChanged) -> None:
    """Caps per household count every member's messages together."""
    repository = JourneysRepository(session)
    if event.joined:
        await repository.upsert(
            KnownOwner, {"id": event.owner_id, "household_id": event.household_id}
        )
        return
    owner = await repository.get(KnownOwner, event.owner_id, for_update=True)
    if owner is not None and owner.household_id == event.household_id:
        owner.household_id = None
        await session.flush()


async def owners_merged(session: AsyncSession, event: OwnersMerged) -> None:
    """One person, two records: the merged one's journeys, messages and facts move over."""
    await JourneysRepository(session).merge_owner(event.merged_owner_id, event.survivor_owner_id)
