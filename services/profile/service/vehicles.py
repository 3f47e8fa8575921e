import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import DealerRelation
from services.profile.errors import DuplicateVin, UnknownReference, VehicleNotFound
from services.profile.models import Vehicle
from services.profile.repository import ProfileRepository
from services.profile.schemas import VehicleCreate
from services.profile.service.announcements import ownership_roles, vehicle_registered
from services.profile.service.owners import require_own_dealer
from shared.auth import Caller, CallerKind, StaffRole
from shared.messaging.outbox import record_envelopes
from shared.pagination import PageParams


def require_dealer_or_admin(caller: Caller) -> None:
    if caller.kind is not CallerKind.DEALER:
        caller.require_staff(StaffRole.ADMIN)


async def create_vehicle(session: AsyncSession, *, caller: Caller, data: VehicleCreate) -> Vehicle:
    require_dealer_or_admin(caller)
    require_own_dealer(caller)  # the selling dealer
    repository = ProfileRepository(session)
    if data.owner_id and await repository.get_owner(caller, data.owner_id) is None:
        raise UnknownReference.for_field("body.owner_id", f"owner {data.owner_id} not found")
    if await repository.vehicle_by_vin(data.vin):
        raise DuplicateVin(f"VIN {data.vin} is already registered")
    vehicle = await repository.add(
        Vehicle(
            **data.model_dump(exclude={"components"}),
            components=[component.model_dump() for component in data.components],
            selling_dealer_id=caller.dealer_id,
        )
    )
    await register_vehicle(session, vehicle, dealer_id=caller.dealer_id)
    return vehicle


async def register_vehicle(
    session: AsyncSession, vehicle: Vehicle, *, dealer_id: uuid.UUID | None
) -> None:
    """Links a newly added vehicle (and its owner) to the selling dealer and announces it."""
    repository = ProfileRepository(session)
    session.add_all(ownership_roles(vehicle))
    if dealer_id:
        await repository.link_vehicle(vehicle.id, dealer_id, DealerRelation.SOLD)
        if vehicle.owner_id:
            await repository.link_owner(vehicle.owner_id, dealer_id, DealerRelation.SOLD, None)
    await record_envelopes(session, [vehicle_registered(vehicle, dealer_id=dealer_id)])


async def list_vehicles(
    session: AsyncSession,
    *,
    caller: Caller,
    page: PageParams,
    model: str | None,
    owner_id: uuid.UUID | None,
) -> tuple[list[Vehicle], int]:
    return await ProfileRepository(session).list_vehicles(
        caller, page, model=model, owner_id=owner_id
    )


async def get_vehicle(session: AsyncSession, *, caller: Caller, vehicle_id: uuid.UUID) -> Vehicle:
    vehicle = await ProfileRepository(session).get_vehicle(caller, vehicle_id)
    if vehicle is None:
        raise VehicleNotFound(f"Vehicle {vehicle_id} not found")
    return vehicle
