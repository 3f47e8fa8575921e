"""Every profile query. Reads take the caller and apply its scope; writes flush only."""

import uuid
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import SQLModel

from services.profile.models import (
    Dealer,
    Order,
    OrderStatusEntry,
    Owner,
    OwnerDealer,
    ServiceVisit,
    Vehicle,
    VehicleDealer,
)
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams
from shared.repository import Repository
from shared.scoping import in_visible_dealers

M = TypeVar("M", bound=SQLModel)


def _dealers_in_region(region: str) -> Any:
    return select(Dealer.id).where(Dealer.region == region)


def dealer_scope(caller: Caller) -> ColumnElement[bool]:
    match caller.kind:
        case CallerKind.DEALER:
            return in_visible_dealers(Dealer.id, caller)
        case CallerKind.OWNER:
            linked = select(OwnerDealer.dealer_id).where(OwnerDealer.owner_id == caller.owner_id)
            return Dealer.id.in_(linked)
    return Dealer.region == caller.region if caller.region else true()


def owner_scope(caller: Caller) -> ColumnElement[bool]:
    match caller.kind:
        case CallerKind.DEALER:
            return _owner_linked_to(in_visible_dealers(OwnerDealer.dealer_id, caller))
        case CallerKind.OWNER:
            return Owner.id == caller.owner_id
    if caller.region:
        return _owner_linked_to(OwnerDealer.dealer_id.in_(_dealers_in_region(caller.region)))
    return true()


def _owner_linked_to(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(OwnerDealer.owner_id == Owner.id, condition)


def vehicle_scope(caller: Caller) -> ColumnElement[bool]:
    match caller.kind:
        case CallerKind.DEALER:
            return _vehicle_linked_to(in_visible_dealers(VehicleDealer.dealer_id, caller))
        case CallerKind.OWNER:
            return Vehicle.owner_id == caller.owner_id
    if caller.region:
        return _vehicle_linked_to(VehicleDealer.dealer_id.in_(_dealers_in_region(caller.region)))
    return true()


def _vehicle_linked_to(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(VehicleDealer.vehicle_id == Vehicle.id, condition)


def _dealer_owned_scope(model: type[Order] | type[ServiceVisit], caller: Caller) -> Any:
    match caller.kind:
        case CallerKind.DEALER:
            return in_visible_dealers(model.dealer_id, caller)
        case CallerKind.OWNER:
            return model.owner_id == caller.owner_id if caller.owner_id else false()
    if caller.region:
        return model.dealer_id.in_(_dealers_in_region(caller.region))
    return true()


class ProfileRepository(Repository):
    async def _one(self, model: type[M], scope: Any, *conditions: Any) -> M | None:
        return await self.session.scalar(select(model).where(scope, *conditions))

    # Dealers

    async def list_dealers(self, caller: Caller, page: PageParams, *, region: str | None):
        filters = [Dealer.region == region] if region else []
        return await self.page(Dealer, page, dealer_scope(caller), *filters, order_by=Dealer.code)

    async def get_dealer(self, caller: Caller, dealer_id: uuid.UUID) -> Dealer | None:
        return await self._one(Dealer, dealer_scope(caller), Dealer.id == dealer_id)

    async def dealer_code_taken(self, code: str) -> bool:
        return await self.session.scalar(select(exists().where(Dealer.code == code))) or False

    # Owners

    async def list_owners(self, caller: Caller, page: PageParams, *, city: str | None):
        filters = [Owner.city == city] if city else []
        return await self.page(
            Owner, page, owner_scope(caller), *filters, order_by=Owner.created_at
        )

    async def get_owner(self, caller: Caller, owner_id: uuid.UUID) -> Owner | None:
        return await self._one(Owner, owner_scope(caller), Owner.id == owner_id)

    async def visible_owner_ids(
        self, caller: Caller, owner_ids: Collection[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Which of these owners the caller may see, in one query."""
        if not owner_ids:
            return set()
        rows = await self.session.scalars(
            select(Owner.id).where(Owner.id.in_(owner_ids), owner_scope(caller))
        )
        return set(rows)

    async def owner_by_external_id(self, dealer_id: uuid.UUID, external_id: str) -> Owner | None:
        return await self.session.scalar(
            select(Owner)
            .join(OwnerDealer, OwnerDealer.owner_id == Owner.id)
            .where(OwnerDealer.dealer_id == dealer_id, OwnerDealer.external_id == external_id)
        )

    async def link_owner(
        self, owner_id: uuid.UUID, dealer_id: uuid.UUID, relation: str, external_id: str | None
    ) -> None:
        """Adds the dealer's relation to the owner once; the first relation is kept."""
        await self.session.execute(
            insert(OwnerDealer)
            .values(
                owner_id=owner_id, dealer_id=dealer_id, relation=relation, external_id=external_id
            )
            .on_conflict_do_nothing(index_elements=["owner_id", "dealer_id"])
        )

    # Vehicles

    async def list_vehicles(
        self, caller: Caller, page: PageParams, *, model: str | None, owner_id: uuid.UUID | None
    ):
        filters = []
        if model:
            filters.append(Vehicle.model == model)
        if owner_id:
            filters.append(Vehicle.owner_id == owner_id)
        return await self.page(
            Vehicle, page, vehicle_scope(caller), *filters, order_by=Vehicle.created_at
        )

    async def get_vehicle(self, caller: Caller, vehicle_id: uuid.UUID) -> Vehicle | None:
        return await self._one(Vehicle, vehicle_scope(caller), Vehicle.id == vehicle_id)

    async def vehicle_by_vin(self, vin: str, *, for_update: bool = False) -> Vehicle | None:
        statement = select(Vehicle).where(Vehicle.vin == vin)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def link_vehicle(
        self, vehicle_id: uuid.UUID, dealer_id: uuid.UUID, relation: str
    ) -> None:
        await self.session.execute(
            insert(VehicleDealer)
            .values(vehicle_id=vehicle_id, dealer_id=dealer_id, relation=relation)
            .on_conflict_do_nothing(index_elements=["vehicle_id", "dealer_id"])
        )

    # Orders

    async def list_orders(
        self, caller: Caller, page: PageParams, *, status: str | None, owner_id: uuid.UUID | None
    ):
        filters = []
        if status:
            filters.append(Order.status == status)
        if owner_id:
            filters.append(Order.owner_id == owner_id)
        return await self.page(
            Order, page, _dealer_owned_scope(Order, caller), *filters, order_by=Order.created_at
        )

    async def get_order(self, caller: Caller, order_id: uuid.UUID, *, for_update: bool = False):
        statement = select(Order).where(_dealer_owned_scope(Order, caller), Order.id == order_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def order_by_external_id(self, dealer_id: uuid.UUID, external_id: str) -> Order | None:
        return await self.session.scalar(
            select(Order)
            .where(Order.dealer_id == dealer_id, Order.external_id == external_id)
            .with_for_update()
        )

    async def order_timelines(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[OrderStatusEntry]]:
        rows = await self.session.scalars(
            select(OrderStatusEntry)
            .where(OrderStatusEntry.order_id.in_(order_ids))
            .order_by(OrderStatusEntry.changed_at, OrderStatusEntry.id)
        )
        timelines: dict[uuid.UUID, list[OrderStatusEntry]] = {
            order_id: [] for order_id in order_ids
        }
        for entry in rows:
            timelines[entry.order_id].append(entry)
        return timelines

    # Service visits

    async def list_service_visits(
        self,
        caller: Caller,
        page: PageParams,
        *,
        vehicle_id: uuid.UUID | None,
        owner_id: uuid.UUID | None = None,
    ):
        filters = [ServiceVisit.vehicle_id == vehicle_id] if vehicle_id else []
        if owner_id:
            filters.append(ServiceVisit.owner_id == owner_id)
        return await self.page(
            ServiceVisit,
            page,
            _dealer_owned_scope(ServiceVisit, caller),
            *filters,
            order_by=ServiceVisit.visit_date,
        )

    async def get_service_visit(self, caller: Caller, visit_id: uuid.UUID) -> ServiceVisit | None:
        return await self._one(
            ServiceVisit, _dealer_owned_scope(ServiceVisit, caller), ServiceVisit.id == visit_id
        )

    async def service_visit_by_external_id(
        self, dealer_id: uuid.UUID, external_id: str
    ) -> ServiceVisit | None:
        return await self.session.scalar(
            select(ServiceVisit).where(
                ServiceVisit.dealer_id == dealer_id, ServiceVisit.external_id == external_id
            )
        )
