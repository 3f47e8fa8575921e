"""Queries of the derivation worker: claiming a vehicle, its facts so far, its mileage."""

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import ARRAY, Uuid, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.telematics.domain import GAP, Span, TripSummary
from services.telematics.models import (
    AppUse,
    ChargingSession,
    DailyMileage,
    DerivationCursor,
    Fault,
    ServiceVisit,
    Trip,
    Vehicle,
)
from services.telematics.repository.base import Queries
from services.telematics.signal_store import driver_connection

# A stored trip or charging session.
Run = TypeVar("Run", Trip, ChargingSession)

_DAILY_MILEAGE = """
INSERT INTO daily_mileage (vehicle_id, day, mileage_km)
SELECT $1, day, km FROM unnest($2::date[], $3::float8[]) AS reading (day, km)
ON CONFLICT (vehicle_id, day)
DO UPDATE SET mileage_km = greatest(daily_mileage.mileage_km, EXCLUDED.mileage_km)
"""


# Built once (a trip with apps used runs it; building it cost more than running it).
_first_use = insert(AppUse.__table__)
_FIRST_USES = _first_use.on_conflict_do_update(
    index_elements=["vehicle_id", "app"],
    set_={"first_used_at": _first_use.excluded.first_used_at},
    where=AppUse.__table__.c.first_used_at > _first_use.excluded.first_used_at,
)


class DerivationQueries(Queries):
    async def vehicles_to_derive(
        self, now: datetime, after: uuid.UUID | None, *, limit: int
    ) -> list[uuid.UUID]:
        """Vehicles with new rows, or whose open trip or session may have ended by now, in id
        order after `after` (from the first, for None)."""
        ids = await self.session.scalars(
            select(DerivationCursor.vehicle_id)
            .where(or_(DerivationCursor.dirty, DerivationCursor.recheck_at <= now))
            .where(DerivationCursor.vehicle_id > (after or uuid.UUID(int=0)))
            .order_by(DerivationCursor.vehicle_id)
            .limit(limit)
        )
        return list(ids)

    async def claim_vehicle(
        self, vehicle_id: uuid.UUID, now: datetime
    ) -> tuple[DerivationCursor, Vehicle] | None:
        """The vehicle's cursor and itself, both locked (one round trip), if it still needs
        derivation and no other worker holds it."""
        claimed = await self.session.execute(
            select(DerivationCursor, Vehicle)
            .join(Vehicle, Vehicle.id == DerivationCursor.vehicle_id)
            .where(DerivationCursor.vehicle_id == vehicle_id)
            .where(or_(DerivationCursor.dirty, DerivationCursor.recheck_at <= now))
            .with_for_update(skip_locked=True, of=[DerivationCursor, Vehicle])
        )
        row = claimed.first()
        return (row[0], row[1]) if row else None

    async def overlapping(
        self, model: type[Run], vehicle_id: uuid.UUID, start: datetime, end: datetime
    ) -> Sequence[Run]:
        """The vehicle's trips (or charging sessions) that overlap [start, end], oldest first."""
        rows = await self.session.scalars(
            select(model)
            .where(model.vehicle_id == vehicle_id, model.started_at <= end, model.ended_at >= start)
            .order_by(model.started_at)
        )
        return rows.all()

    async def spans_before(self, vehicle_id: uuid.UUID, moment: datetime) -> list[Span]:
        """Trips and charging sessions that started before `moment` and ended at most an hour
        before it (rows at `moment` might belong to them)."""
        spans = []
        for model, trip in ((Trip, True), (ChargingSession, False)):
            rows = await self.session.execute(
                select(model.started_at, model.ended_at).where(
                    model.vehicle_id == vehicle_id,
                    model.started_at < moment,
                    model.ended_at >= moment - GAP,
                )
            )
            spans.extend(Span(started, ended, trip) for started, ended in rows)
        return spans

    async def delete(self, run: Run) -> None:
        await self.session.delete(run)
        await self.session.flush()

    async def active_faults(self, vehicle_id: uuid.UUID) -> dict[str, Fault]:
        rows = await self.session.scalars(
            select(Fault).where(Fault.vehicle_id == vehicle_id, Fault.cleared_at.is_(None))
        )
        return {fault.code: fault for fault in rows}

    async def trip_summaries_since(
        self, vehicle_id: uuid.UUID, since: datetime
    ) -> list[TripSummary]:
        """What the behaviour window needs of each trip, as plain rows: a vehicle has a
        month of trips, each re-read after every new one."""
        columns = [getattr(Trip, field.name) for field in fields(TripSummary)]
        rows = await self.session.execute(
            select(*columns).where(Trip.vehicle_id == vehicle_id, Trip.started_at >= since)
        )
        return [TripSummary(*row) for row in rows]

    async def new_apps(self, vehicle_id: uuid.UUID, first_uses: dict[str, datetime]) -> None:
        """Records when each app was first used (a late trip may tell of an earlier use)."""
        if first_uses:
            await self.session.execute(
                _FIRST_USES,
                [
                    {"vehicle_id": vehicle_id, "app": app, "first_used_at": at}
                    for app, at in sorted(first_uses.items())
                ],
            )

    async def apps_first_used_since(self, vehicle_id: uuid.UUID, since: datetime) -> list[str]:
        rows = await self.session.scalars(
            select(AppUse.app)
            .where(AppUse.vehicle_id == vehicle_id, AppUse.first_used_at >= since)
            .order_by(AppUse.app)
        )
        return list(rows)

    async def record_daily_mileage(self, vehicle_id: uuid.UUID, days: dict[date, float]) -> None:
        """Each day's highest reading. On the driver, as one prepared statement: this runs
        on every derivation pass (SQLAlchemy compiled a multi-row INSERT anew each time)."""
        if days:
            connection = await driver_connection(self.session)
            await connection.execute(_DAILY_MILEAGE, vehicle_id, list(days), list(days.values()))

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
