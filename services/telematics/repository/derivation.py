"""Queries of the derivation worker: claiming a vehicle, its facts so far, its mileage."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ARRAY, Uuid, and_, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.telematics.models import (
    AppUse,
    DailyMileage,
    DerivationCursor,
    Fault,
    ServiceVisit,
    Trip,
)
from services.telematics.repository.base import Queries


class DerivationQueries(Queries):
    async def claim_vehicle(self, now: datetime) -> DerivationCursor | None:
        """A vehicle with new rows, or whose open trip or session may have ended by now."""
        return await self.session.scalar(
            select(DerivationCursor)
            .where(
                or_(
                    and_(
                        DerivationCursor.dirty,
                        or_(
                            DerivationCursor.not_before.is_(None),
                            DerivationCursor.not_before <= now,
                        ),
                    ),
                    DerivationCursor.recheck_at <= now,
                )
            )
            .limit(1)
            .with_for_update(skip_locked=True)
        )

    async def active_faults(self, vehicle_id: uuid.UUID) -> dict[str, Fault]:
        rows = await self.session.scalars(
            select(Fault).where(Fault.vehicle_id == vehicle_id, Fault.cleared_at.is_(None))
        )
        return {fault.code: fault for fault in rows}

    async def trips_since(self, vehicle_id: uuid.UUID, since: datetime) -> Sequence[Trip]:
        rows = await self.session.scalars(
            select(Trip).where(Trip.vehicle_id == vehicle_id, Trip.started_at >= since)
        )
        return rows.all()

    async def new_apps(self, vehicle_id: uuid.UUID, apps: set[str], at: datetime) -> None:
        if apps:
            await self.session.execute(
                insert(AppUse)
                .values(
                    [{"vehicle_id": vehicle_id, "app": app, "first_used_at": at} for app in apps]
                )
                .on_conflict_do_nothing()
            )

    async def apps_first_used_since(self, vehicle_id: uuid.UUID, since: datetime) -> list[str]:
        rows = await self.session.scalars(
            select(AppUse.app)
            .where(AppUse.vehicle_id == vehicle_id, AppUse.first_used_at >= since)
            .order_by(AppUse.app)
        )
        return list(rows)

    async def record_daily_mileage(self, vehicle_id: uuid.UUID, days: dict[date, float]) -> None:
        if not days:
            return
        statement = insert(DailyMileage).values(
            [{"vehicle_id": vehicle_id, "day": day, "mileage_km": km} for day, km in days.items()]
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["vehicle_id", "day"],
                set_={
                    "mileage_km": func.greatest(
                        DailyMileage.mileage_km, statement.excluded.mileage_km
                    )
                },
            )
        )

    async def km_per_day(self, vehicle_id: uuid.UUID, today: date, window_days: int = 30) -> float:
        paces = await self.paces([vehicle_id], since=today - timedelta(days=window_days))
        return paces.get(vehicle_id, 0.0)

    async def last_service(self, vehicle_id: uuid.UUID) -> ServiceVisit | None:
        return await self.session.scalar(
            select(ServiceVisit)
            .where(ServiceVisit.vehicle_id == vehicle_id)
            .order_by(ServiceVisit.visit_date.desc())
            .limit(1)
        )

    async def paces(self, vehicle_ids: list[uuid.UUID], *, since: date) -> dict:
        """Recent km per day of each vehicle: its first to last daily reading since then."""
        days = func.greatest(func.max(DailyMileage.day) - func.min(DailyMileage.day), 1)
        rows = await self.session.execute(
            select(
                DailyMileage.vehicle_id,
                (func.max(DailyMileage.mileage_km) - func.min(DailyMileage.mileage_km)) / days,
            )
            .where(
                DailyMileage.vehicle_id == any_(bindparam("ids", vehicle_ids, ARRAY(Uuid))),
                DailyMileage.day >= since,
            )
            .group_by(DailyMileage.vehicle_id)
        )
        return {vehicle_id: float(pace) for vehicle_id, pace in rows}
