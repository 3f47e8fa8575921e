"""Queries behind the projections of profile's events: vehicles, parts, owners, consent."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from services.telematics.models import (
    FittedPart,
    LocationConsent,
    OwnershipPeriod,
    PartFailure,
    Vehicle,
)
from services.telematics.repository.base import Queries


class ProjectionQueries(Queries):
    async def vehicle_by_vin(self, vin: str) -> Vehicle | None:
        return await self.session.scalar(select(Vehicle).where(Vehicle.vin == vin))

    async def current_parts(self, vehicle_id: uuid.UUID) -> Sequence[FittedPart]:
        rows = await self.session.scalars(
            select(FittedPart).where(
                FittedPart.vehicle_id == vehicle_id, FittedPart.removed_km.is_(None)
            )
        )
        return rows.all()

    async def current_part(self, vehicle_id: uuid.UUID, component: str) -> FittedPart | None:
        return await self.session.scalar(
            select(FittedPart).where(
                FittedPart.vehicle_id == vehicle_id,
                FittedPart.component == component,
                FittedPart.removed_km.is_(None),
            )
        )

    async def record_failure(self, part: FittedPart, mileage_km: float, at: datetime, source):
        """A part fails once: a fault code and its later replacement are one failure."""
        await self.session.execute(
            insert(PartFailure)
            .values(
                id=uuid.uuid4(),
                fitted_part_id=part.id,
                vehicle_id=part.vehicle_id,
                mileage_km=mileage_km,
                occurred_at=at,
                source=source,
            )
            .on_conflict_do_nothing(index_elements=["fitted_part_id"])
        )

    async def close_ownership(self, vehicle_id: uuid.UUID, on: date) -> None:
        await self.session.execute(
            update(OwnershipPeriod)
            .where(OwnershipPeriod.vehicle_id == vehicle_id, OwnershipPeriod.ended_on.is_(None))
            .values(ended_on=on)
        )

    async def ownership_periods(self, owner_id: uuid.UUID) -> Sequence[OwnershipPeriod]:
        rows = await self.session.scalars(
            select(OwnershipPeriod).where(OwnershipPeriod.owner_id == owner_id)
        )
        return rows.all()

    async def set_consent(self, owner_id: uuid.UUID, granted: bool, at: datetime) -> None:
        """Only a newer decision replaces an older one (events may arrive out of order)."""
        statement = insert(LocationConsent).values(
            owner_id=owner_id, granted=granted, changed_at=at
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["owner_id"],
                set_={"granted": granted, "changed_at": at},
                where=LocationConsent.changed_at < at,
            )
        )
