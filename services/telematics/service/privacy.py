"""Personal data in telematics: location kept only with consent and only for the retention,
and an owner's erasure (locations, destinations, apps and the link to them) on request."""

import uuid
from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.config import SERVICE
from services.telematics.errors import OwnerDataNotFound
from services.telematics.models import ChargingSession, Trip, Vehicle
from services.telematics.repository import TelematicsRepository
from services.telematics.schemas import (
    ChargingSessionRead,
    OwnerExport,
    TripRead,
    VehicleExport,
)
from services.telematics.service.views import fault_of
from services.telematics.signal_store import erase_locations
from services.telematics.signal_store import expire_locations as expire_signal_locations
from shared.audit import record_staff_export
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import OwnerErasureRequested
from shared.contracts.telematics import TelematicsErasureCompleted, TelematicsOwnerDataExported
from shared.idempotency.claims import forget_answers_about
from shared.messaging.outbox import record_event


async def expire_locations(session: AsyncSession, before: datetime) -> int:
    return await expire_signal_locations(session, before)


def _start_of(day) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


async def erase_owner(session: AsyncSession, event: OwnerErasureRequested, *, now: datetime):
    """Erases what ties the owner to places and habits, keeps the anonymous vehicle facts
    (mileage, faults, part failures) that fleet quality needs, and confirms."""
    repository = TelematicsRepository(session)
    erased = 0
    for period in await repository.ownership_periods(event.owner_id):
        end = _start_of(period.ended_on) if period.ended_on else None
        erased += await erase_locations(
            session, period.vehicle_id, _start_of(period.started_on), end
        )
        await session.delete(period)
    erased += await repository.erase_owner(event.owner_id)
    erased += await forget_answers_about(session, event.owner_id)
    await record_event(
        session,
        TelematicsErasureCompleted(
            request_id=event.request_id,
            owner_id=event.owner_id,
            service=SERVICE,
            records_erased=erased,
            completed_at=now,
        ),
        subject=event.request_id,
        owner_id=event.owner_id,
    )


async def export_owner(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, now: datetime
) -> OwnerExport:
    """Everything telematics holds that is the owner's: their vehicles, drives, charging and
    faults. For the owner themselves or CX staff (recorded for the owner's audit log in
    profile); another owner gets a 404."""
    if caller.kind is CallerKind.OWNER and caller.owner_id != owner_id:
        raise OwnerDataNotFound(f"No telematics data for owner {owner_id}")
    if caller.kind is not CallerKind.OWNER:
        caller.require_staff(StaffRole.CX_AGENT)
    repository = TelematicsRepository(session)
    vehicles = await repository.owned(Vehicle, owner_id, order_by=Vehicle.vin)
    vins = {vehicle.id: vehicle.vin for vehicle in vehicles}
    faults = await repository.faults_of_vehicles(list(vins)) if vins else []
    await record_staff_export(
        session, TelematicsOwnerDataExported, caller=caller, owner_id=owner_id, at=now
    )
    return OwnerExport(
        owner_id=owner_id,
        vehicles=[VehicleExport(id=v.id, vin=v.vin, model=v.model) for v in vehicles],
        trips=[TripRead.model_validate(t) for t in await repository.owned(
            Trip, owner_id, order_by=Trip.started_at)],
        charging_sessions=[ChargingSessionRead.model_validate(c) for c in await repository.owned(
            ChargingSession, owner_id, order_by=ChargingSession.started_at)],
        faults=[fault_of(fault, vins[fault.vehicle_id]) for fault in faults],
    )  # fmt: skip
