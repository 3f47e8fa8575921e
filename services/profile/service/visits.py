import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import DealerRelation
from services.profile.errors import DuplicateExternalId, ServiceVisitNotFound, UnknownReference
from services.profile.models import ServiceVisit, Vehicle, utc_now
from services.profile.repository import ProfileRepository
from services.profile.schemas import ServiceVisitCreate, ServiceVisitImport
from services.profile.service.announcements import visit_completed
from services.profile.service.facts import refresh_owner
from services.profile.service.orders import require_dealer
from shared.auth import Caller
from shared.messaging.outbox import record_envelopes
from shared.pagination import PageParams


async def create_service_visit(
    session: AsyncSession, *, caller: Caller, data: ServiceVisitCreate
) -> ServiceVisit:
    dealer_id = require_dealer(caller)
    repository = ProfileRepository(session)
    if data.external_id and await repository.service_visit_by_external_id(
        dealer_id, data.external_id
    ):
        raise DuplicateExternalId(f"Service visit external id {data.external_id!r} is already used")
    vehicle = await vehicle_for_visit(repository, data.vin)
    return await record_service_visit(
        session, dealer_id=dealer_id, vehicle=vehicle, owner_id=vehicle.owner_id, data=data
    )


async def vehicle_for_visit(repository: ProfileRepository, vin: str) -> Vehicle:
    """A car can be serviced anywhere: any dealer may record a visit for a registered VIN."""
    vehicle = await repository.vehicle_by_vin(vin, for_update=True)
    if vehicle is None:
        raise UnknownReference.for_field("body.vin", f"vehicle {vin} is not registered")
    return vehicle


async def record_service_visit(
    session: AsyncSession,
    *,
    dealer_id: uuid.UUID,
    vehicle: Vehicle,
    owner_id: uuid.UUID | None,
    data: ServiceVisitCreate | ServiceVisitImport,
) -> ServiceVisit:
    """Stores a completed visit, makes the dealer the servicing dealer, and announces it."""
    repository = ProfileRepository(session)
    visit = await repository.add(
        ServiceVisit(
            **data.model_dump(exclude={"vin", "parts", "owner_external_id"}),
            parts=[part.model_dump() for part in data.parts],
            dealer_id=dealer_id,
            vehicle_id=vehicle.id,
            owner_id=owner_id,
        )
    )
    vehicle.servicing_dealer_id = dealer_id
    await repository.link_vehicle(vehicle.id, dealer_id, DealerRelation.SERVICES)
    if owner_id:
        await repository.link_owner(owner_id, dealer_id, DealerRelation.SERVICES, None)
    await record_envelopes(session, [visit_completed(visit, vehicle)])
    if owner_id:
        await refresh_owner(session, owner_id, now=utc_now())
    return visit


async def list_service_visits(
    session: AsyncSession, *, caller: Caller, page: PageParams, vehicle_id: uuid.UUID | None
) -> tuple[list[ServiceVisit], int]:
    return await ProfileRepository(session).list_service_visits(caller, page, vehicle_id=vehicle_id)


async def get_service_visit(
    session: AsyncSession, *, caller: Caller, visit_id: uuid.UUID
) -> ServiceVisit:
    visit = await ProfileRepository(session).get_service_visit(caller, visit_id)
    if visit is None:
        raise ServiceVisitNotFound(f"Service visit {visit_id} not found")
    return visit
