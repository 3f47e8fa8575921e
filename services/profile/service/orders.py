import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import (
    POINTS_FOR_REFERRAL,
    DealerRelation,
    OrderStatus,
    order_transition_problem,
)
from services.profile.errors import (
    DuplicateExternalId,
    IllegalOrderTransition,
    OrderNotFound,
    UnknownReference,
)
from services.profile.models import Order, utc_now
from services.profile.repository import ProfileRepository
from services.profile.schemas import OrderCreate, OrderRead, OrderStatusUpdate
from services.profile.service.announcements import order_status_changed, status_entry
from services.profile.service.facts import refresh_owner
from services.profile.service.loyalty import reward_referrer
from shared.auth import Caller, CallerKind
from shared.errors import Forbidden
from shared.messaging.outbox import record_envelopes
from shared.pagination import PageParams


def require_dealer(caller: Caller) -> uuid.UUID:
    """Orders and visits come from a dealer's DMS; the dealer is the caller."""
    if caller.kind is not CallerKind.DEALER or caller.dealer_id is None:
        raise Forbidden("Only a dealer's own key records orders and service visits")
    return caller.dealer_id


async def create_order(session: AsyncSession, *, caller: Caller, data: OrderCreate) -> OrderRead:
    dealer_id = require_dealer(caller)
    repository = ProfileRepository(session)
    if await repository.get_owner(caller, data.owner_id) is None:
        raise UnknownReference.for_field("body.owner_id", f"owner {data.owner_id} not found")
    if data.external_id and await repository.order_by_external_id(dealer_id, data.external_id):
        raise DuplicateExternalId(f"Order external id {data.external_id!r} is already used")
    order = await open_order(
        session,
        dealer_id=dealer_id,
        owner_id=data.owner_id,
        model=data.model,
        vin=data.vin,
        external_id=data.external_id,
        status=OrderStatus.ORDERED,
        at=utc_now(),
    )
    return (await read_orders(session, [order]))[0]


async def open_order(
    session: AsyncSession,
    *,
    dealer_id: uuid.UUID,
    owner_id: uuid.UUID,
    model: str,
    vin: str | None,
    external_id: str | None,
    status: OrderStatus,
    at: datetime,
) -> Order:
    repository = ProfileRepository(session)
    order = await repository.add(
        Order(
            dealer_id=dealer_id,
            owner_id=owner_id,
            model=model,
            vin=vin,
            external_id=external_id,
            status=status,
            status_changed_at=at,
        )
    )
    await repository.link_owner(owner_id, dealer_id, DealerRelation.ORDERED, None)
    await _record_status(session, order, previous=None)
    return order


async def change_status(
    session: AsyncSession, order: Order, status: OrderStatus, at: datetime
) -> bool:
    """Moves the order on; returns False when it already had that status."""
    if order.status == status:
        return False
    if problem := order_transition_problem(OrderStatus(order.status), status):
        raise IllegalOrderTransition(problem)
    previous = order.status
    order.status = status
    order.status_changed_at = at
    await _record_status(session, order, previous=previous)
    return True


async def _record_status(session: AsyncSession, order: Order, *, previous: str | None) -> None:
    """Adds the timeline step, announces it, and updates what follows from it: the buyer's
    lifecycle and segments, and the referral that brought the buyer, once delivered."""
    await ProfileRepository(session).add(status_entry(order))
    await record_envelopes(session, [order_status_changed(order, previous=previous)])
    now = utc_now()
    if order.status == OrderStatus.DELIVERED:
        referrer = await reward_referrer(
            session, buyer_id=order.owner_id, points=POINTS_FOR_REFERRAL, now=now
        )
        if referrer:
            await refresh_owner(session, referrer, now=now)
    await refresh_owner(session, order.owner_id, now=now)


async def update_order_status(
    session: AsyncSession, *, caller: Caller, order_id: uuid.UUID, data: OrderStatusUpdate
) -> OrderRead:
    require_dealer(caller)
    order = await ProfileRepository(session).get_order(caller, order_id, for_update=True)
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found")
    await change_status(session, order, data.status, data.changed_at or utc_now())
    return (await read_orders(session, [order]))[0]


async def list_orders(
    session: AsyncSession,
    *,
    caller: Caller,
    page: PageParams,
    status: OrderStatus | None,
    owner_id: uuid.UUID | None,
) -> tuple[list[OrderRead], int]:
    repository = ProfileRepository(session)
    orders, total = await repository.list_orders(caller, page, status=status, owner_id=owner_id)
    return await read_orders(session, orders), total


async def get_order(session: AsyncSession, *, caller: Caller, order_id: uuid.UUID) -> OrderRead:
    order = await ProfileRepository(session).get_order(caller, order_id)
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found")
    return (await read_orders(session, [order]))[0]


async def read_orders(session: AsyncSession, orders: list[Order]) -> list[OrderRead]:
    timelines = await ProfileRepository(session).order_timelines([order.id for order in orders])
    return [
        OrderRead.model_validate(
            {
                **order.model_dump(),
                "timeline": [entry.model_dump() for entry in timelines[order.id]],
            }
        )
        for order in orders
    ]
