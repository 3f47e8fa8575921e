"""Tickets' local view of profile's dealers, owners and vehicles, kept from their events.

Routing needs an owner's city and servicing dealer and a dealer's city and region; tickets
never reads profile's tables. Events may arrive out of order: every write is an upsert,
and fields an earlier fact may already hold better are set only on insert. An erased
owner is never projected again, whatever arrives late.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.tickets.models import KnownDealer, KnownFault, KnownOwner, KnownVehicle
from services.tickets.repository import TicketsRepository
from shared.contracts.profile import (
    DealerRegistered,
    OwnerRegistered,
    ServiceVisitCompleted,
    VehicleOwnershipChanged,
    VehicleRegistered,
)
from shared.contracts.telematics import DtcCleared, DtcRaised


async def dealer_registered(session: AsyncSession, event: DealerRegistered) -> None:
    await TicketsRepository(session).upsert(
        KnownDealer,
        {
            "id": event.dealer_id,
            "code": event.code,
            "name": event.name,
            "city": event.city,
            "region": event.region,
        },
    )


async def _unless_erased(session: AsyncSession, owner_id: uuid.UUID | None) -> uuid.UUID | None:
    if owner_id and await TicketsRepository(session).is_erased(owner_id):
        return None
    return owner_id


async def owner_registered(session: AsyncSession, event: OwnerRegistered) -> None:
    if await _unless_erased(session, event.owner_id) is None:
        return
    await TicketsRepository(session).upsert(
        KnownOwner,
        {
            "id": event.owner_id,
            "city": event.city,
            "preferred_language": event.preferred_language,
            "servicing_dealer_id": event.dealer_id,
        },
        insert_only={"servicing_dealer_id"},
    )


async def vehicle_registered(session: AsyncSession, event: VehicleRegistered) -> None:
    await TicketsRepository(session).upsert(
        KnownVehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "model": event.model,
            "owner_id": await _unless_erased(session, event.owner_id),
            "servicing_dealer_id": event.servicing_dealer_id or event.selling_dealer_id,
        },
        insert_only={"servicing_dealer_id"},
    )


async def service_visit_completed(session: AsyncSession, event: ServiceVisitCompleted) -> None:
    """The dealer that last serviced the vehicle becomes its (and its owner's) servicing one."""
    repository = TicketsRepository(session)
    owner_id = await _unless_erased(session, event.owner_id)
    await repository.upsert(
        KnownVehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "model": "",
            "owner_id": owner_id,
            "servicing_dealer_id": event.dealer_id,
        },
        insert_only={"model", "owner_id"},
    )
    if owner_id:
        await repository.upsert(
            KnownOwner, {"id": owner_id, "servicing_dealer_id": event.dealer_id}
        )


async def vehicle_ownership_changed(session: AsyncSession, event: VehicleOwnershipChanged) -> None:
    """A sold car: its cases are opened by the new owner (and routed to their dealer)."""
    values = {
        "id": event.vehicle_id,
        "vin": event.vin,
        "model": "",
        "owner_id": await _unless_erased(session, event.owner_id),
    }
    if event.servicing_dealer_id:
        values["servicing_dealer_id"] = event.servicing_dealer_id
    await TicketsRepository(session).upsert(KnownVehicle, values, insert_only={"model"})


async def dtc_raised(session: AsyncSession, event: DtcRaised) -> None:
    await TicketsRepository(session).upsert(
        KnownFault,
        {
            "vehicle_id": event.vehicle_id,
            "code": event.code,
            "component": event.component,
            "mileage_km": event.mileage_km,
            "raised_at": event.raised_at,
        },
    )


async def dtc_cleared(session: AsyncSession, event: DtcCleared) -> None:
    fault = await session.get(KnownFault, (event.vehicle_id, event.code))
    if fault is not None and fault.raised_at <= event.cleared_at:  # not a later raise
        await TicketsRepository(session).delete(fault)
