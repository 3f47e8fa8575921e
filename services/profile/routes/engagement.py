"""Routes of interaction events, leads, consents, vehicle roles, households, dealer groups."""

import uuid
from datetime import UTC, date, datetime

from fastapi import APIRouter, status

from services.profile.schemas import DealerRead
from services.profile.schemas.engagement import (
    ConsentsRead,
    ConsentUpdate,
    DealerGroupAssign,
    DealerGroupCreate,
    DealerGroupPage,
    DealerGroupRead,
    DriverAdd,
    EventTypeRead,
    HouseholdCreate,
    HouseholdDepartureRead,
    HouseholdMemberAdd,
    HouseholdRead,
    InteractionBatch,
    InteractionBatchResult,
    InteractionEventPage,
    LeadCreate,
    LeadPage,
    LeadRead,
    OwnershipTransfer,
    RoleEnd,
    VehicleRoleRead,
)
from services.profile.service import consents, households, interactions, leads, ownership
from shared.dependencies import AnyCaller, CurrentCaller, Paging, Session
from shared.pagination import Page

router = APIRouter()


def _now() -> datetime:
    return datetime.now(UTC)


def page_of(page_type: type[Page], items, total: int, paging) -> Page:
    return page_type(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/event-types", response_model=list[EventTypeRead], response_model_by_alias=True)
async def list_event_types(caller: CurrentCaller):
    return interactions.event_types()


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, response_model=InteractionBatchResult)
async def record_events(body: InteractionBatch, session: Session, caller: AnyCaller):
    """A batch is stored all or nothing; a resent event `id` is counted as a duplicate."""
    return await interactions.record_interactions(session, caller=caller, batch=body, now=_now())


@router.get("/owners/{owner_id}/events", response_model=InteractionEventPage)
async def list_owner_events(
    owner_id: uuid.UUID,
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    type: str | None = None,
):
    items, total = await interactions.list_interactions(
        session, caller=caller, owner_id=owner_id, page=paging, event_type=type
    )
    return page_of(InteractionEventPage, items, total, paging)


@router.post("/leads", status_code=status.HTTP_201_CREATED, response_model=LeadRead)
async def create_lead(body: LeadCreate, session: Session, caller: CurrentCaller):
    return await leads.create_lead(session, caller=caller, data=body, now=_now())


@router.get("/leads", response_model=LeadPage)
async def list_leads(session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await leads.list_leads(session, caller=caller, page=paging)
    return page_of(LeadPage, items, total, paging)


@router.get("/leads/{lead_id}", response_model=LeadRead)
async def get_lead(lead_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await leads.get_lead(session, caller=caller, lead_id=lead_id)


@router.get("/owners/{owner_id}/consents", response_model=ConsentsRead)
async def get_consents(owner_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await consents.get_consents(session, caller=caller, owner_id=owner_id)


@router.put("/owners/{owner_id}/consents", response_model=ConsentsRead)
async def change_consent(
    owner_id: uuid.UUID, body: ConsentUpdate, session: Session, caller: CurrentCaller
):
    """Grant or withdraw one purpose on one channel; the answer joins the history."""
    return await consents.change_consent(
        session, caller=caller, owner_id=owner_id, data=body, now=_now()
    )


@router.get("/vehicles/{vehicle_id}/roles", response_model=list[VehicleRoleRead])
async def list_vehicle_roles(
    vehicle_id: uuid.UUID, session: Session, caller: CurrentCaller, on: date | None = None
):
    """Every owner and driver over time, or (with `on`) those that held on that day."""
    return await ownership.list_roles(session, caller=caller, vehicle_id=vehicle_id, on=on)


@router.post("/vehicles/{vehicle_id}/ownership", response_model=list[VehicleRoleRead])
async def transfer_ownership(
    vehicle_id: uuid.UUID, body: OwnershipTransfer, session: Session, caller: CurrentCaller
):
    return await ownership.transfer_ownership(
        session, caller=caller, vehicle_id=vehicle_id, data=body, now=_now()
    )


@router.post("/vehicles/{vehicle_id}/drivers", response_model=list[VehicleRoleRead])
async def add_driver(
    vehicle_id: uuid.UUID, body: DriverAdd, session: Session, caller: CurrentCaller
):
    return await ownership.add_driver(session, caller=caller, vehicle_id=vehicle_id, data=body)


@router.post("/vehicles/{vehicle_id}/roles/{role_id}/end", response_model=list[VehicleRoleRead])
async def end_vehicle_role(
    vehicle_id: uuid.UUID,
    role_id: uuid.UUID,
    body: RoleEnd,
    session: Session,
    caller: CurrentCaller,
):
    return await ownership.end_role(
        session, caller=caller, vehicle_id=vehicle_id, role_id=role_id, data=body
    )


@router.post("/households", status_code=status.HTTP_201_CREATED, response_model=HouseholdRead)
async def create_household(body: HouseholdCreate, session: Session, caller: CurrentCaller):
    return await households.create_household(session, caller=caller, data=body)


@router.get("/households/{household_id}", response_model=HouseholdRead)
async def get_household(household_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await households.get_household(session, caller=caller, household_id=household_id)


@router.post("/households/{household_id}/members", response_model=HouseholdRead)
async def add_household_member(
    household_id: uuid.UUID, body: HouseholdMemberAdd, session: Session, caller: CurrentCaller
):
    return await households.add_member(
        session, caller=caller, household_id=household_id, owner_id=body.owner_id
    )


@router.delete(
    "/households/{household_id}/members/{owner_id}", response_model=HouseholdDepartureRead
)
async def remove_household_member(
    household_id: uuid.UUID, owner_id: uuid.UUID, session: Session, caller: CurrentCaller
):
    """The owner leaves the household (the owner themselves, their dealer or customer
    service). Repeated, it answers `already_left` and changes nothing."""
    return await households.remove_member(
        session, caller=caller, household_id=household_id, owner_id=owner_id, now=_now()
    )


@router.post("/dealer-groups", status_code=status.HTTP_201_CREATED, response_model=DealerGroupRead)
async def create_dealer_group(body: DealerGroupCreate, session: Session, caller: CurrentCaller):
    return await households.create_dealer_group(session, caller=caller, data=body)


@router.get("/dealer-groups", response_model=DealerGroupPage)
async def list_dealer_groups(session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await households.list_dealer_groups(session, caller=caller, page=paging)
    return page_of(DealerGroupPage, items, total, paging)


@router.get("/dealer-groups/{group_id}", response_model=DealerGroupRead)
async def get_dealer_group(group_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await households.get_dealer_group(session, caller=caller, group_id=group_id)


@router.put("/dealers/{dealer_id}/group", response_model=DealerRead)
async def assign_dealer_group(
    dealer_id: uuid.UUID, body: DealerGroupAssign, session: Session, caller: CurrentCaller
):
    return await households.assign_dealer_group(
        session, caller=caller, dealer_id=dealer_id, data=body, now=_now()
    )
