"""Queries of an owner's export and erasure."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from services.telematics.models import ChargingSession, Fault, LocationConsent, Trip, Vehicle
from services.telematics.repository.base import Queries
from shared.repository import M


class PrivacyQueries(Queries):
    async def erase_owner(self, owner_id: uuid.UUID) -> int:
        """Detaches the owner from trips and charging (locations, apps and destinations go) and
        forgets their consent; returns the records changed."""
        changed = 0
        for model, values in (
            (Trip, {"owner_id": None, "apps": [], "destination": None}),
            (ChargingSession, {"owner_id": None, "latitude": None, "longitude": None}),
        ):
            result = await self.session.execute(
                update(model).where(model.owner_id == owner_id).values(**values)
            )
            changed += result.rowcount or 0
        result = await self.session.execute(
            update(Vehicle).where(Vehicle.owner_id == owner_id).values(owner_id=None)
        )
        changed += result.rowcount or 0
        consent = await self.session.get(LocationConsent, owner_id)
        if consent is not None:
            await self.session.delete(consent)
            changed += 1
        await self.session.flush()
        return changed

    async def owned(self, model: type[M], owner_id: uuid.UUID, *, order_by: Any) -> Sequence[M]:
        """Every row of `model` that is the owner's (their vehicles, trips, charging)."""
        return (
            await self.session.scalars(
                select(model).where(model.owner_id == owner_id).order_by(order_by)
            )
        ).all()

    async def faults_of_vehicles(self, vehicle_ids: list[uuid.UUID]) -> Sequence[Fault]:
        return (
            await self.session.scalars(
                select(Fault).where(Fault.vehicle_id.in_(vehicle_ids)).order_by(Fault.raised_at)
            )
        ).all()
