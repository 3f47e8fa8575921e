"""A DMS batch's orders at every status, each step on the timeline and announced; the
buyer's lifecycle replayed step by step; a delivery pays the referral that brought the buyer."""

import uuid

from services.profile.domain import (
    POINTS_FOR_REFERRAL,
    DealerRelation,
    OrderStatus,
    order_transition_problem,
)
from services.profile.errors import IllegalOrderTransition
from services.profile.models import Order
from services.profile.repository.loyalty import LoyaltyRepository
from services.profile.schemas import OrderImport
from services.profile.service.announcements import order_status_changed, status_entry
from services.profile.service.imports.base import ImportState, apply_changes
from services.profile.service.loyalty import reward_referral
from shared.errors import FieldError


class OrderRecords(ImportState):
    """The batch's orders."""

    async def orders(self, records: list[OrderImport]) -> None:
        await self._learn_owners({record.owner_external_id for record in records})
        existing = await self.repository.orders_by_external_ids(
            self.dealer_id, {record.external_id for record in records}
        )
        buyers = {self.owner_ids[r.owner_external_id] for r in records
                  if r.owner_external_id in self.owner_ids}  # fmt: skip
        self.referred = await LoyaltyRepository(self.session).referred_leads_of(buyers)
        referrers = {lead.referrer_owner_id for lead in self.referred.values()}
        await self.lifecycle.load(buyers | {r for r in referrers if r is not None})
        for index, record in enumerate(records):
            owner_id = self._owner_id(
                f"body.orders.{index}.owner_external_id", record.owner_external_id
            )
            assert owner_id is not None
            order = existing.get(record.external_id)
            if order is None:
                existing[record.external_id] = await self._open(record, owner_id)
                self._count("orders", "created")
                continue
            changed = await self._move_on(index, order, record)
            changed = apply_changes(order, {"vin": record.vin or order.vin}) or changed
            self._count("orders", "updated" if changed else "unchanged")

    async def _open(self, record: OrderImport, owner_id: uuid.UUID) -> Order:
        order = Order(
            dealer_id=self.dealer_id,
            owner_id=owner_id,
            model=record.model,
            vin=record.vin,
            external_id=record.external_id,
            status=record.status,
            status_changed_at=record.status_changed_at,
        )
        self.session.add(order)
        self._link_owner(owner_id, DealerRelation.ORDERED, None)
        await self._record_status(order, previous=None)
        return order

    async def _move_on(self, index: int, order: Order, record: OrderImport) -> bool:
        if order.status == record.status:
            return False
        if problem := order_transition_problem(OrderStatus(order.status), record.status):
            field = f"body.orders.{index}.status"
            raise IllegalOrderTransition(
                f"{field}: {problem}", errors=[FieldError(field=field, message=problem)]
            )
        previous = order.status
        order.status = record.status
        order.status_changed_at = record.status_changed_at
        await self._record_status(order, previous=previous)
        return True

    async def _record_status(self, order: Order, *, previous: str | None) -> None:
        """The timeline step and its event; the buyer's lifecycle; a delivery pays the
        referral that brought the buyer."""
        self.session.add(status_entry(order))
        self.events.append(order_status_changed(order, previous=previous))
        self.touched.add(order.owner_id)
        self._announce(self.lifecycle.count(order.owner_id, **_order_counts(order, previous)))
        if order.status != OrderStatus.DELIVERED:
            return
        referrer = await reward_referral(
            self.session, self.referred.get(order.owner_id), points=POINTS_FOR_REFERRAL,
            now=self.now,
        )  # fmt: skip
        if referrer:
            self.touched.add(referrer)
            self._announce(self.lifecycle.count(referrer, converted_referrals=1))


def _order_counts(order: Order, previous: str | None) -> dict[str, int]:
    """How an order's move changes its buyer's lifecycle counts."""

    def counts(status: str | None) -> tuple[int, int]:
        return (status not in (None, OrderStatus.CANCELLED), status == OrderStatus.DELIVERED)

    (orders_before, delivered_before), (orders_now, delivered_now) = (
        counts(previous),
        counts(order.status),
    )
    return {
        "orders": orders_now - orders_before,
        "delivered_orders": delivered_now - delivered_before,
    }
