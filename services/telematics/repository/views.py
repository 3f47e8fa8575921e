"""Queries of the owner and dealer views, always within the caller's scope."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from services.telematics.models import Fault, ServiceDueRow, SettingsRow, Vehicle, VehicleState
from services.telematics.repository.base import Queries, vehicle_scope
from shared.auth import Caller
from shared.pagination import PageParams
from shared.repository import M


class ViewQueries(Queries):
    async def scoped_vehicle(self, caller: Caller, vin: str) -> Vehicle | None:
        return await self.session.scalar(
            select(Vehicle).where(Vehicle.vin == vin, Vehicle.registered, vehicle_scope(caller))
        )

    async def vehicles_with_state(
        self, caller: Caller, page: PageParams
    ) -> tuple[list[tuple[Vehicle, VehicleState | None]], int]:
        conditions = (Vehicle.registered, vehicle_scope(caller))
        total = await self.session.scalar(
            select(func.count()).select_from(Vehicle).where(*conditions)
        )
        rows = await self.session.execute(
            select(Vehicle, VehicleState)
            .outerjoin(VehicleState, VehicleState.vehicle_id == Vehicle.id)
            .where(*conditions)
            .order_by(Vehicle.vin)
            .limit(page.limit)
            .offset(page.offset)
        )
        return [(vehicle, state) for vehicle, state in rows], total or 0

    async def page_of(
        self, model: type[M], page: PageParams, *conditions: Any, order_by: Any
    ) -> tuple[Sequence[M], int]:
        total = await self.session.scalar(
            select(func.count()).select_from(model).where(*conditions)
        )
        rows = await self.session.scalars(
            select(model)
            .where(*conditions)
            .order_by(order_by)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all(), total or 0

    async def faults_of_scope(
        self, caller: Caller, page: PageParams, vin: str | None
    ) -> tuple[list[tuple[Fault, Vehicle, ServiceDueRow | None]], int]:
        """Active faults of the caller's vehicles, those due for service soonest first."""
        conditions = [Fault.cleared_at.is_(None), Vehicle.registered, vehicle_scope(caller)]
        if vin:
            conditions.append(Vehicle.vin == vin)
        joined = select(Fault, Vehicle, ServiceDueRow).join(Vehicle, Vehicle.id == Fault.vehicle_id)
        joined = joined.outerjoin(ServiceDueRow, ServiceDueRow.vehicle_id == Vehicle.id)
        total = await self.session.scalar(
            select(func.count())
            .select_from(Fault)
            .join(Vehicle, Vehicle.id == Fault.vehicle_id)
            .where(*conditions)
        )
        rows = await self.session.execute(
            joined.where(*conditions)
            .order_by(ServiceDueRow.due_date.asc().nulls_last(), Fault.raised_at)
            .limit(page.limit)
            .offset(page.offset)
        )
        return [tuple(row) for row in rows], total or 0

    async def settings(self, key: str) -> SettingsRow | None:
        return await self.session.get(SettingsRow, key)
