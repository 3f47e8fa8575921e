"""What owners, dealers and staff may read: their vehicles' latest state, trips, charging,
faults and service due, and (quality engineers) the quality alerts."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.errors import AlertNotFound, VehicleNotFound
from services.telematics.models import (
    ChargingSession,
    Fault,
    QualityAlert,
    ServiceDueRow,
    Trip,
    Vehicle,
    VehicleState,
)
from services.telematics.repository import TelematicsRepository, owned_by
from services.telematics.schemas import FaultRead, VehicleStateRead
from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden
from shared.pagination import PageParams

VIEWER_ROLES = (StaffRole.CX_AGENT, StaffRole.QUALITY_ENGINEER)


def require_viewer(caller: Caller) -> None:
    if caller.kind is CallerKind.SERVICE:
        raise Forbidden("Vehicle data is read by owners, dealers and staff")
    if caller.is_staff:
        caller.require_staff(*VIEWER_ROLES)


async def vehicle(session: AsyncSession, caller: Caller, vin: str) -> Vehicle:
    """The caller's vehicle; another's is a 404 like an unknown one."""
    require_viewer(caller)
    found = await TelematicsRepository(session).scoped_vehicle(caller, vin)
    if found is None:
        raise VehicleNotFound(f"No vehicle {vin}")
    return found


def state_of(found: Vehicle, state: VehicleState | None) -> VehicleStateRead:
    latest = state.model_dump(exclude={"vehicle_id", "updated_at"}) if state else {}
    return VehicleStateRead(
        vehicle_id=found.id, vin=found.vin, model=found.model, mileage_km=found.mileage_km, **latest
    )


def fault_of(fault: Fault, vin: str, due: ServiceDueRow | None = None) -> FaultRead:
    return FaultRead(
        vin=vin,
        code=fault.code,
        component=fault.component,
        mileage_km=fault.mileage_km,
        raised_at=fault.raised_at,
        cleared_at=fault.cleared_at,
        service_due_date=due.due_date if due else None,
    )


async def vehicle_state(session: AsyncSession, caller: Caller, vin: str) -> VehicleStateRead:
    found = await vehicle(session, caller, vin)
    return state_of(found, await TelematicsRepository(session).get(VehicleState, found.id))


async def vehicles(session: AsyncSession, caller: Caller, page: PageParams):
    require_viewer(caller)
    return await TelematicsRepository(session).vehicles_with_state(caller, page)


async def trips(session: AsyncSession, caller: Caller, vin: str, page: PageParams):
    found = await vehicle(session, caller, vin)
    return await TelematicsRepository(session).page_of(
        Trip,
        page,
        Trip.vehicle_id == found.id,
        owned_by(Trip, caller),
        order_by=Trip.started_at.desc(),
    )


async def charging_sessions(session: AsyncSession, caller: Caller, vin: str, page: PageParams):
    found = await vehicle(session, caller, vin)
    return await TelematicsRepository(session).page_of(
        ChargingSession,
        page,
        ChargingSession.vehicle_id == found.id,
        owned_by(ChargingSession, caller),
        order_by=ChargingSession.started_at.desc(),
    )


async def faults(session: AsyncSession, caller: Caller, page: PageParams, vin: str | None):
    """Active faults of the caller's vehicles (a dealer prepares parts for the visits due
    soonest, so those come first)."""
    require_viewer(caller)
    return await TelematicsRepository(session).faults_of_scope(caller, page, vin)


async def vehicle_faults(session: AsyncSession, caller: Caller, vin: str, page: PageParams):
    found = await vehicle(session, caller, vin)
    return await TelematicsRepository(session).page_of(
        Fault,
        page,
        Fault.vehicle_id == found.id,
        Fault.cleared_at.is_(None),
        order_by=Fault.raised_at.desc(),
    )


async def service_due(session: AsyncSession, caller: Caller, vin: str) -> ServiceDueRow:
    found = await vehicle(session, caller, vin)
    due = await TelematicsRepository(session).get(ServiceDueRow, found.id)
    if due is None:
        raise VehicleNotFound(f"No service due date predicted yet for {vin}")
    return due


def require_quality(caller: Caller) -> None:
    caller.require_staff(StaffRole.QUALITY_ENGINEER)


async def quality_alerts(session: AsyncSession, caller: Caller, page: PageParams):
    require_quality(caller)
    return await TelematicsRepository(session).page_of(
        QualityAlert, page, order_by=QualityAlert.raised_at.desc()
    )


async def quality_alert(session: AsyncSession, caller: Caller, alert_id: uuid.UUID):
    require_quality(caller)
    alert = await TelematicsRepository(session).get(QualityAlert, alert_id)
    if alert is None:
        raise AlertNotFound(f"No quality alert {alert_id}")
    return alert
