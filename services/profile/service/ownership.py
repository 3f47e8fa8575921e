"""Who owned and who drove a vehicle when: roles with effective dates, never overwritten."""

import uuid
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import DealerRelation, VehicleRoleKind
from services.profile.errors import IllegalOwnershipChange, UnknownReference
from services.profile.models import Vehicle, VehicleRole
from services.profile.repository import ProfileRepository
from services.profile.repository.engagement import EngagementRepository
from services.profile.schemas.engagement import DriverAdd, OwnershipTransfer, RoleEnd
from services.profile.service.facts import refresh_owner
from services.profile.service.vehicles import get_vehicle, require_dealer_or_admin
from shared.auth import Caller
from shared.contracts.profile import VehicleDriversChanged, VehicleOwnershipChanged
from shared.errors import InvalidInput
from shared.messaging.outbox import record_event


async def transfer_ownership(
    session: AsyncSession,
    *,
    caller: Caller,
    vehicle_id: uuid.UUID,
    data: OwnershipTransfer,
    now: datetime,
) -> list[VehicleRole]:
    require_dealer_or_admin(caller)
    vehicle = await get_vehicle(session, caller=caller, vehicle_id=vehicle_id)
    await _visible_owner_field(session, caller, data.owner_id)
    repository = EngagementRepository(session)
    current = await repository.current_role(vehicle.id, VehicleRoleKind.OWNER)
    previous_owner = current.owner_id if current else vehicle.owner_id
    if previous_owner == data.owner_id:
        raise IllegalOwnershipChange(f"Owner {data.owner_id} already owns this vehicle")
    if current:
        if data.effective_from <= current.effective_from:
            raise IllegalOwnershipChange(
                f"The current ownership began on {current.effective_from}; "
                "a transfer must take effect after it"
            )
        current.effective_to = data.effective_from
    session.add(
        VehicleRole(
            vehicle_id=vehicle.id,
            owner_id=data.owner_id,
            role=VehicleRoleKind.OWNER,
            effective_from=data.effective_from,
        )
    )
    vehicle.owner_id = data.owner_id
    if caller.dealer_id:
        await ProfileRepository(session).link_owner(
            data.owner_id, caller.dealer_id, DealerRelation.SOLD, None
        )
    await record_event(
        session,
        VehicleOwnershipChanged(
            vehicle_id=vehicle.id,
            vin=vehicle.vin,
            owner_id=data.owner_id,
            previous_owner_id=previous_owner,
            servicing_dealer_id=vehicle.servicing_dealer_id,
            effective_from=data.effective_from,
        ),
        subject=vehicle.id,
        dealer_id=caller.dealer_id,
        owner_id=data.owner_id,
    )
    for owner_id in filter(None, (previous_owner, data.owner_id)):
        await refresh_owner(session, owner_id, now=now)
    return await _roles(session, vehicle.id)


async def add_driver(
    session: AsyncSession, *, caller: Caller, vehicle_id: uuid.UUID, data: DriverAdd
) -> list[VehicleRole]:
    require_dealer_or_admin(caller)
    if data.role is VehicleRoleKind.OWNER:
        raise InvalidInput.for_field("body.role", "ownership changes go through /ownership")
    vehicle = await get_vehicle(session, caller=caller, vehicle_id=vehicle_id)
    await _visible_owner_field(session, caller, data.owner_id)
    repository = EngagementRepository(session)
    if data.role is VehicleRoleKind.PRIMARY_DRIVER and await repository.current_role(
        vehicle.id, VehicleRoleKind.PRIMARY_DRIVER
    ):
        raise IllegalOwnershipChange("The vehicle has a primary driver; end that role first")
    if await repository.current_role(vehicle.id, data.role, data.owner_id):
        raise IllegalOwnershipChange(f"Owner {data.owner_id} already has this role")
    role = VehicleRole(vehicle_id=vehicle.id, **data.model_dump())
    session.add(role)
    await _announce_drivers(session, caller, vehicle, role, change="added", on=role.effective_from)
    return await _roles(session, vehicle.id)


async def end_role(
    session: AsyncSession,
    *,
    caller: Caller,
    vehicle_id: uuid.UUID,
    role_id: uuid.UUID,
    data: RoleEnd,
) -> list[VehicleRole]:
    require_dealer_or_admin(caller)
    vehicle = await get_vehicle(session, caller=caller, vehicle_id=vehicle_id)
    role = await EngagementRepository(session).get_role(vehicle.id, role_id)
    if role is None:
        raise UnknownReference(f"Role {role_id} is not a role of this vehicle")
    if role.role == VehicleRoleKind.OWNER:
        raise IllegalOwnershipChange("Ownership ends only by a transfer to the next owner")
    if role.effective_to is not None:
        raise IllegalOwnershipChange(f"The role already ended on {role.effective_to}")
    if data.effective_to < role.effective_from:
        raise InvalidInput.for_field("body.effective_to", "is before the role began")
    role.effective_to = data.effective_to
    await _announce_drivers(session, caller, vehicle, role, change="ended", on=data.effective_to)
    return await _roles(session, vehicle.id)


async def list_roles(
    session: AsyncSession, *, caller: Caller, vehicle_id: uuid.UUID, on: date | None
) -> list[VehicleRole]:
    vehicle = await get_vehicle(session, caller=caller, vehicle_id=vehicle_id)
    if on is not None:
        return list(await EngagementRepository(session).roles_at(vehicle.id, on))
    return await _roles(session, vehicle.id)


async def _announce_drivers(
    session: AsyncSession,
    caller: Caller,
    vehicle: Vehicle,
    role: VehicleRole,
    *,
    change: str,
    on: date,
) -> None:
    """Publishes who drives the vehicle from `on`, after this change (the owners' timelines
    show it from the roles themselves)."""
    await session.flush()
    drivers = await EngagementRepository(session).roles_at(vehicle.id, on)
    primary = [d.owner_id for d in drivers if d.role == VehicleRoleKind.PRIMARY_DRIVER]
    await record_event(
        session,
        VehicleDriversChanged(
            vehicle_id=vehicle.id,
            vin=vehicle.vin,
            owner_id=vehicle.owner_id,
            driver_id=role.owner_id,
            role=role.role,
            change=change,
            effective_on=on,
            primary_driver_id=primary[0] if primary else None,
            secondary_driver_ids=sorted(
                d.owner_id for d in drivers if d.role == VehicleRoleKind.SECONDARY_DRIVER
            ),
        ),
        subject=vehicle.id,
        dealer_id=caller.dealer_id,
        owner_id=vehicle.owner_id,
    )


async def _roles(session: AsyncSession, vehicle_id: uuid.UUID) -> list[VehicleRole]:
    await session.flush()
    return list(await EngagementRepository(session).roles_of_vehicle(vehicle_id))


async def _visible_owner_field(session: AsyncSession, caller: Caller, owner_id: uuid.UUID) -> None:
    if await ProfileRepository(session).get_owner(caller, owner_id) is None:
        raise UnknownReference.for_field("body.owner_id", f"owner {owner_id} not found")
