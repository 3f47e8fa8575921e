"""Telematics' view of profile's vehicles, owners' location consent and fitted parts, kept
from profile's events. Events may arrive out of order: every write is an upsert, and a
service visit may teach a vehicle before its registration does."""

from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.models import (
    DerivationCursor,
    FittedPart,
    OwnershipPeriod,
    ServiceVisit,
    Vehicle,
)
from services.telematics.repository import TelematicsRepository
from shared.contracts.profile import (
    ConsentChanged,
    ServiceVisitCompleted,
    VehicleOwnershipChanged,
    VehicleRegistered,
)

LOCATION_PURPOSE = "location"


async def vehicle_registered(session: AsyncSession, event: VehicleRegistered) -> None:
    repository = TelematicsRepository(session)
    await repository.upsert(
        Vehicle,
        {
            "id": event.vehicle_id,
            "vin": event.vin,
            "model": event.model,
            "registered": True,
            "owner_id": event.owner_id,
            "owner_since": event.delivery_date,
            "selling_dealer_id": event.selling_dealer_id,
            "servicing_dealer_id": event.servicing_dealer_id or event.selling_dealer_id,
            "delivery_date": event.delivery_date,
        },
    )
    periods = await repository.ownership_periods(event.owner_id) if event.owner_id else []
    if event.owner_id and not any(p.vehicle_id == event.vehicle_id for p in periods):
        await repository.add(
            OwnershipPeriod(
                vehicle_id=event.vehicle_id,
                owner_id=event.owner_id,
                started_on=event.delivery_date or event.production_date or datetime.now(UTC).date(),
            )
        )
    fitted = {part.component for part in await repository.current_parts(event.vehicle_id)}
    session.add_all(
        FittedPart(
            vehicle_id=event.vehicle_id,
            component=component.component,
            part_number=component.part_number,
            batch_code=component.batch_code,
        )
        for component in event.components
        if component.component not in fitted
    )
    await session.flush()  # one INSERT for the parts, not one each


async def ownership_changed(session: AsyncSession, event: VehicleOwnershipChanged) -> None:
    repository = TelematicsRepository(session)
    vehicle = await repository.get(Vehicle, event.vehicle_id, for_update=True)
    if vehicle is None:
        return
    await repository.close_ownership(vehicle.id, event.effective_from)
    vehicle.owner_id = event.owner_id
    vehicle.owner_since = event.effective_from
    if event.servicing_dealer_id:
        vehicle.servicing_dealer_id = event.servicing_dealer_id
    if event.owner_id:
        await repository.add(
            OwnershipPeriod(
                vehicle_id=vehicle.id, owner_id=event.owner_id, started_on=event.effective_from
            )
        )
    await session.flush()


async def consent_changed(session: AsyncSession, event: ConsentChanged) -> None:
    if event.purpose == LOCATION_PURPOSE:
        await TelematicsRepository(session).set_consent(
            event.owner_id, event.granted, event.changed_at
        )


async def service_visit_completed(session: AsyncSession, event: ServiceVisitCompleted) -> None:
    """Each replaced part is a failure of the batch it replaced; the new part's batch is fitted
    from the visit's mileage on. The visiting dealer becomes the servicing one."""
    repository = TelematicsRepository(session)
    await repository.upsert(
        Vehicle,
        {"id": event.vehicle_id, "vin": event.vin, "servicing_dealer_id": event.dealer_id},
    )
    await repository.upsert(
        ServiceVisit,
        {
            "id": event.visit_id,
            "vehicle_id": event.vehicle_id,
            "dealer_id": event.dealer_id,
            "visit_date": event.visit_date,
            "mileage_km": float(event.mileage_km),
            "visit_type": event.visit_type,
        },
    )
    # A service resets the maintenance clock: predict the next one at the next derivation.
    await repository.upsert(
        DerivationCursor, {"vehicle_id": event.vehicle_id, "dirty": True, "predicted_on": None}
    )
    at = datetime.combine(event.visit_date, time(12), tzinfo=UTC)
    for part in event.parts:
        old = await repository.current_part(event.vehicle_id, part.component)
        if old is not None:
            if old.batch_code == part.batch_code and old.part_number == part.part_number:
                continue  # a redelivered visit: this part is already the fitted one
            await repository.record_failure(old, float(event.mileage_km), at, "service_visit")
            old.removed_km = float(event.mileage_km)
            await session.flush()
        await repository.add(
            FittedPart(
                vehicle_id=event.vehicle_id,
                component=part.component,
                part_number=part.part_number,
                batch_code=part.batch_code,
                fitted_km=float(event.mileage_km),
            )
        )
