"""Dealer DMS import: an idempotent bulk upsert keyed by the dealer's own external ids.

A batch is applied in one transaction: any bad record rejects the whole batch and
nothing changes. Sending the same batch again changes nothing and publishes nothing.
"""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import DealerRelation
from services.profile.errors import IllegalOrderTransition, UnknownReference
from services.profile.models import Vehicle
from services.profile.repository import ProfileRepository
from services.profile.schemas import (
    DmsImport,
    ImportCounts,
    ImportResult,
    OrderImport,
    OwnerImport,
    ServiceVisitImport,
    VehicleImport,
)
from services.profile.service.orders import change_status, open_order, require_dealer
from services.profile.service.owners import register_owner
from services.profile.service.personal import PERSONAL_FIELDS, new_owner, update_personal
from services.profile.service.vehicles import register_vehicle
from services.profile.service.visits import record_service_visit, vehicle_for_visit
from services.profile.vault import Vault
from shared.auth import Caller
from shared.errors import FieldError


async def import_dms_batch(
    session: AsyncSession, *, caller: Caller, vault: Vault, batch: DmsImport
) -> ImportResult:
    dealer_id = require_dealer(caller)
    # One import per dealer at a time, so two resends of a batch cannot both create.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(str(dealer_id)))))
    run = _ImportRun(session, dealer_id, vault)
    for record in batch.owners:
        await run.owner(record)
    for index, record in enumerate(batch.vehicles):
        await run.vehicle(index, record)
    for index, record in enumerate(batch.orders):
        await run.order(index, record)
    for index, record in enumerate(batch.service_visits):
        await run.service_visit(index, record)
    return ImportResult(
        owners=run.counts["owners"],
        vehicles=run.counts["vehicles"],
        orders=run.counts["orders"],
        service_visits=run.counts["service_visits"],
    )


def _apply(model: Any, values: dict[str, Any]) -> bool:
    """Sets the attributes that differ; returns whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(model, name) != value:
            setattr(model, name, value)
            changed = True
    return changed


class _ImportRun:
    def __init__(self, session: AsyncSession, dealer_id: uuid.UUID, vault: Vault) -> None:
        self.session = session
        self.vault = vault
        self.dealer_id = dealer_id
        self.repository = ProfileRepository(session)
        self.counts = {
            kind: ImportCounts() for kind in ("owners", "vehicles", "orders", "service_visits")
        }

    def _count(self, kind: str, outcome: str) -> None:
        counts = self.counts[kind]
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    async def owner(self, record: OwnerImport) -> None:
        values = record.model_dump(exclude={"external_id"})
        owner = await self.repository.owner_by_external_id(self.dealer_id, record.external_id)
        if owner is None:
            owner = await new_owner(self.session, self.vault, values)
            await register_owner(
                self.session, owner, dealer_id=self.dealer_id, external_id=record.external_id
            )
            self._count("owners", "created")
            return
        personal = await update_personal(self.session, self.vault, owner, values)
        others = {k: v for k, v in values.items() if k not in PERSONAL_FIELDS}
        changed = _apply(owner, others) or personal
        self._count("owners", "updated" if changed else "unchanged")

    async def _owner_id(self, field: str, external_id: str | None) -> uuid.UUID | None:
        if external_id is None:
            return None
        owner = await self.repository.owner_by_external_id(self.dealer_id, external_id)
        if owner is None:
            raise UnknownReference.for_field(field, f"no owner with external id {external_id!r}")
        return owner.id

    async def vehicle(self, index: int, record: VehicleImport) -> None:
        field = f"body.vehicles.{index}.owner_external_id"
        owner_id = await self._owner_id(field, record.owner_external_id)
        relation = DealerRelation.SOLD if record.sold_by_this_dealer else DealerRelation.SERVICES
        vehicle = await self.repository.vehicle_by_vin(record.vin, for_update=True)
        if vehicle is None:
            vehicle = await self.repository.add(
                Vehicle(
                    **record.model_dump(
                        exclude={"owner_external_id", "sold_by_this_dealer", "components"}
                    ),
                    components=[component.model_dump() for component in record.components],
                    owner_id=owner_id,
                    selling_dealer_id=self.dealer_id if record.sold_by_this_dealer else None,
                    servicing_dealer_id=None if record.sold_by_this_dealer else self.dealer_id,
                )
            )
            await register_vehicle(self.session, vehicle, dealer_id=self.dealer_id)
            self._count("vehicles", "created")
            return
        await self.repository.link_vehicle(vehicle.id, self.dealer_id, relation)
        # Another dealer's record is completed, never overwritten (ownership transfer is
        # an explicit operation, not a side effect of an import).
        missing = {
            name: value
            for name, value in record.model_dump(
                include={"trim", "production_date", "delivery_date"}
            ).items()
            if getattr(vehicle, name) is None and value is not None
        }
        if vehicle.owner_id is None and owner_id is not None:
            missing["owner_id"] = owner_id
        if owner_id is not None and vehicle.owner_id == owner_id:
            await self.repository.link_owner(owner_id, self.dealer_id, relation, None)
        self._count("vehicles", "updated" if _apply(vehicle, missing) else "unchanged")

    async def order(self, index: int, record: OrderImport) -> None:
        owner_id = await self._owner_id(
            f"body.orders.{index}.owner_external_id", record.owner_external_id
        )
        assert owner_id is not None
        order = await self.repository.order_by_external_id(self.dealer_id, record.external_id)
        if order is None:
            await open_order(
                self.session,
                dealer_id=self.dealer_id,
                owner_id=owner_id,
                model=record.model,
                vin=record.vin,
                external_id=record.external_id,
                status=record.status,
                at=record.status_changed_at,
            )
            self._count("orders", "created")
            return
        try:
            changed = await change_status(
                self.session, order, record.status, record.status_changed_at
            )
        except IllegalOrderTransition as error:
            field = f"body.orders.{index}.status"
            raise IllegalOrderTransition(
                f"{field}: {error.detail}", errors=[FieldError(field=field, message=error.detail)]
            ) from error
        changed = _apply(order, {"vin": record.vin or order.vin}) or changed
        self._count("orders", "updated" if changed else "unchanged")

    async def service_visit(self, index: int, record: ServiceVisitImport) -> None:
        existing = await self.repository.service_visit_by_external_id(
            self.dealer_id, record.external_id
        )
        if existing is not None:
            values = record.model_dump(
                include={"visit_type", "visit_date", "mileage_km", "cost", "recall_codes"}
            )
            values["parts"] = [part.model_dump() for part in record.parts]
            self._count("service_visits", "updated" if _apply(existing, values) else "unchanged")
            return
        try:
            vehicle = await vehicle_for_visit(self.repository, record.vin)
        except UnknownReference:
            raise UnknownReference.for_field(
                f"body.service_visits.{index}.vin", f"vehicle {record.vin} is not registered"
            ) from None
        owner_id = await self._owner_id(
            f"body.service_visits.{index}.owner_external_id", record.owner_external_id
        )
        await record_service_visit(
            self.session,
            dealer_id=self.dealer_id,
            vehicle=vehicle,
            owner_id=owner_id or vehicle.owner_id,
            data=record,
        )
        self._count("service_visits", "created")
