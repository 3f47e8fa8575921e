"""Queries of the fleet quality analysis: exposure and failures per part, the campaign."""

from datetime import date

from sqlalchemy import func, select

from services.telematics.models import FittedPart, PartFailure, QualityAlert, Vehicle
from services.telematics.repository.base import Queries


class QualityQueries(Queries):
    async def quality_alert(self, component: str, batch_code: str) -> QualityAlert | None:
        return await self.session.scalar(
            select(QualityAlert).where(
                QualityAlert.component == component, QualityAlert.batch_code == batch_code
            )
        )

    async def serialise_quality_analyses(self) -> None:
        """One analysis at a time across replicas (an alert is raised once per batch)."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("quality"))))

    async def part_exposures(self) -> list[tuple]:
        """Per component, parallel arrays over its fitted parts (one query, few rows): batch,
        fitted and removed km, the vehicle's first and last observed km, the failure km."""
        columns = (
            FittedPart.batch_code,
            FittedPart.fitted_km,
            FittedPart.removed_km,
            Vehicle.first_mileage_km,
            Vehicle.mileage_km,
            PartFailure.mileage_km,
        )
        rows = await self.session.execute(
            select(FittedPart.component, *(func.array_agg(column) for column in columns))
            .join(Vehicle, Vehicle.id == FittedPart.vehicle_id)
            .outerjoin(PartFailure, PartFailure.fitted_part_id == FittedPart.id)
            .where(Vehicle.mileage_km.is_not(None))
            .group_by(FittedPart.component)
        )
        return [tuple(row) for row in rows]

    async def campaign_candidates(
        self, component: str, batch_code: str, *, pace_since: date
    ) -> list[tuple]:
        """Vehicles still carrying the batch that has not failed: (vehicle row, km per day)."""
        vehicles = (
            await self.session.execute(
                select(
                    Vehicle.id,
                    Vehicle.vin,
                    Vehicle.owner_id,
                    Vehicle.servicing_dealer_id,
                    Vehicle.mileage_km,
                )
                .join(FittedPart, FittedPart.vehicle_id == Vehicle.id)
                .outerjoin(PartFailure, PartFailure.fitted_part_id == FittedPart.id)
                .where(
                    FittedPart.component == component,
                    FittedPart.batch_code == batch_code,
                    FittedPart.removed_km.is_(None),
                    PartFailure.id.is_(None),
                    Vehicle.mileage_km.is_not(None),
                )
            )
        ).all()
        pace = await self.paces([vehicle.id for vehicle in vehicles], since=pace_since)
        return [(vehicle, pace.get(vehicle.id, 0.0)) for vehicle in vehicles]
