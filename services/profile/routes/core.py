"""Profile's HTTP API, mounted at /v1/profile. Thin: dependencies in, one use case, out."""

import uuid

from fastapi import APIRouter, status

from services.profile.deps import Now, OwnerVault
from services.profile.domain import OrderStatus
from services.profile.schemas import (
    DealerCreate,
    DealerPage,
    DealerRead,
    DmsImport,
    ImportResult,
    OrderCreate,
    OrderPage,
    OrderRead,
    OrderStatusUpdate,
    OwnerCreate,
    OwnerPage,
    OwnerRead,
    ServiceVisitCreate,
    ServiceVisitPage,
    ServiceVisitRead,
    VehicleCreate,
    VehiclePage,
    VehicleRead,
)
from services.profile.service import dealers, identity, imports, orders, owners, vehicles, visits
from shared.dependencies import CurrentCaller, Paging, Session

router = APIRouter()


def _page(page_type, items, total, paging):
    return page_type(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.post("/dealers", status_code=status.HTTP_201_CREATED, response_model=DealerRead)
async def create_dealer(body: DealerCreate, session: Session, caller: CurrentCaller):
    return await dealers.create_dealer(session, caller=caller, data=body)


@router.get("/dealers", response_model=DealerPage)
async def list_dealers(
    session: Session, caller: CurrentCaller, paging: Paging, region: str | None = None
):
    items, total = await dealers.list_dealers(session, caller=caller, page=paging, region=region)
    return _page(DealerPage, items, total, paging)


@router.get("/dealers/{dealer_id}", response_model=DealerRead)
async def get_dealer(dealer_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await dealers.get_dealer(session, caller=caller, dealer_id=dealer_id)


@router.post("/owners", status_code=status.HTTP_201_CREATED, response_model=OwnerRead)
async def create_owner(
    body: OwnerCreate, session: Session, caller: CurrentCaller, vault: OwnerVault, now: Now
):
    return await identity.create_owner(session, caller=caller, vault=vault, data=body, now=now)


@router.get("/owners", response_model=OwnerPage)
async def list_owners(
    session: Session,
    caller: CurrentCaller,
    vault: OwnerVault,
    paging: Paging,
    city: str | None = None,
):
    items, total = await owners.list_owners(
        session, caller=caller, vault=vault, page=paging, city=city
    )
    return _page(OwnerPage, items, total, paging)


@router.get("/owners/{owner_id}", response_model=OwnerRead)
async def get_owner(
    owner_id: uuid.UUID, session: Session, caller: CurrentCaller, vault: OwnerVault
):
    return await owners.get_owner(session, caller=caller, vault=vault, owner_id=owner_id)


@router.post("/vehicles", status_code=status.HTTP_201_CREATED, response_model=VehicleRead)
async def create_vehicle(body: VehicleCreate, session: Session, caller: CurrentCaller):
    return await vehicles.create_vehicle(session, caller=caller, data=body)


@router.get("/vehicles", response_model=VehiclePage)
async def list_vehicles(
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    model: str | None = None,
    owner_id: uuid.UUID | None = None,
):
    items, total = await vehicles.list_vehicles(
        session, caller=caller, page=paging, model=model, owner_id=owner_id
    )
    return _page(VehiclePage, items, total, paging)


@router.get("/vehicles/{vehicle_id}", response_model=VehicleRead)
async def get_vehicle(vehicle_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await vehicles.get_vehicle(session, caller=caller, vehicle_id=vehicle_id)


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=OrderRead)
async def create_order(body: OrderCreate, session: Session, caller: CurrentCaller):
    return await orders.create_order(session, caller=caller, data=body)


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    status: OrderStatus | None = None,
    owner_id: uuid.UUID | None = None,
):
    items, total = await orders.list_orders(
        session, caller=caller, page=paging, status=status, owner_id=owner_id
    )
    return _page(OrderPage, items, total, paging)


@router.get("/orders/{order_id}", response_model=OrderRead)
async def get_order(order_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await orders.get_order(session, caller=caller, order_id=order_id)


@router.post("/orders/{order_id}/status", response_model=OrderRead)
async def update_order_status(
    order_id: uuid.UUID, body: OrderStatusUpdate, session: Session, caller: CurrentCaller
):
    return await orders.update_order_status(session, caller=caller, order_id=order_id, data=body)


@router.post(
    "/service-visits", status_code=status.HTTP_201_CREATED, response_model=ServiceVisitRead
)
async def create_service_visit(body: ServiceVisitCreate, session: Session, caller: CurrentCaller):
    return await visits.create_service_visit(session, caller=caller, data=body)


@router.get("/service-visits", response_model=ServiceVisitPage)
async def list_service_visits(
    session: Session, caller: CurrentCaller, paging: Paging, vehicle_id: uuid.UUID | None = None
):
    items, total = await visits.list_service_visits(
        session, caller=caller, page=paging, vehicle_id=vehicle_id
    )
    return _page(ServiceVisitPage, items, total, paging)


@router.get("/service-visits/{visit_id}", response_model=ServiceVisitRead)
async def get_service_visit(visit_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await visits.get_service_visit(session, caller=caller, visit_id=visit_id)


@router.post("/imports", response_model=ImportResult)
async def import_dms_batch(
    body: DmsImport, session: Session, caller: CurrentCaller, vault: OwnerVault
):
    """Idempotent DMS upsert: resending the same batch changes nothing."""
    return await imports.import_dms_batch(session, caller=caller, vault=vault, batch=body)
