"""The DMS import's set-based queries: a batch's existing records in one query per kind,
its dealer links in one statement per kind."""

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import (
    Consent,
    ConsentEntry,
    Order,
    Owner,
    OwnerDealer,
    ServiceVisit,
    Vehicle,
    VehicleDealer,
)


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def owners_by_external_ids(
        self, dealer_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, Owner]:
        """The dealer's owners known by these external ids."""
        if not external_ids:
            return {}
        rows = await self.session.execute(
            select(OwnerDealer.external_id, Owner)
            .join(OwnerDealer, OwnerDealer.owner_id == Owner.id)
            .where(OwnerDealer.dealer_id == dealer_id, OwnerDealer.external_id.in_(external_ids))
        )
        return {external_id: owner for external_id, owner in rows}

    async def vehicles_by_vins(self, vins: Collection[str]) -> dict[str, Vehicle]:
        """Registered vehicles (any dealer's), locked in VIN order for this transaction."""
        if not vins:
            return {}
        rows = await self.session.scalars(
            select(Vehicle).where(Vehicle.vin.in_(vins)).order_by(Vehicle.vin).with_for_update()
        )
        return {vehicle.vin: vehicle for vehicle in rows}

    async def orders_by_external_ids(
        self, dealer_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, Order]:
        """The dealer's orders by external id, locked for their status to move on."""
        if not external_ids:
            return {}
        rows = await self.session.scalars(
            select(Order)
            .where(Order.dealer_id == dealer_id, Order.external_id.in_(external_ids))
            .order_by(Order.id)
            .with_for_update()
        )
        return {order.external_id: order for order in rows if order.external_id}

    async def visits_by_external_ids(
        self, dealer_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, ServiceVisit]:
        if not external_ids:
            return {}
        rows = await self.session.scalars(
            select(ServiceVisit).where(
                ServiceVisit.dealer_id == dealer_id, ServiceVisit.external_id.in_(external_ids)
            )
        )
        return {visit.external_id: visit for visit in rows if visit.external_id}

    async def link_owners(self, links: Sequence[dict[str, Any]]) -> None:
        """Owner-dealer relations (owner_id, dealer_id, relation, external_id); a pair that
        has a relation keeps it, as does the first of a pair given twice."""
        await self._insert_new(OwnerDealer, links, ["owner_id", "dealer_id"])

    async def link_vehicles(self, links: Sequence[dict[str, Any]]) -> None:
        """Vehicle-dealer relations (vehicle_id, dealer_id, relation), kept as link_owners."""
        await self._insert_new(VehicleDealer, links, ["vehicle_id", "dealer_id"])

    async def _insert_new(self, model: type, rows: Sequence[dict[str, Any]], key: list[str]):
        if rows:  # parameter sets: one cached statement, sent in pages by the driver
            await self.session.execute(
                insert(model).on_conflict_do_nothing(index_elements=key), list(rows)
            )

    async def current_consents(
        self, owner_ids: Collection[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, str, str], tuple[bool, str]]:
        """(owner, purpose, channel) -> (granted, notice version) of the current answers."""
        if not owner_ids:
            return {}
        rows = await self.session.execute(
            select(
                Consent.owner_id, Consent.purpose, Consent.channel, Consent.granted,
                Consent.notice_version,
            ).where(Consent.owner_id.in_(owner_ids))
        )  # fmt: skip
        return {(owner, purpose, channel): (granted, notice)
                for owner, purpose, channel, granted, notice in rows}  # fmt: skip

    async def record_consents(self, history: Sequence[dict[str, Any]]) -> None:
        """Appends the answers to the history and makes each pair's last one its current."""
        if not history:
            return
        await self.session.execute(insert(ConsentEntry), list(history))
        current = {(row["owner_id"], row["purpose"], row["channel"]): row for row in history}
        statement = insert(Consent)
        changes = ("granted", "notice_version", "source", "changed_at")
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["owner_id", "purpose", "channel"],
                set_={name: statement.excluded[name] for name in changes},
            ),
            [{k: v for k, v in row.items() if k not in ("id", "recorded_by")}
             for row in current.values()],
        )  # fmt: skip
