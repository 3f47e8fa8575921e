"""Every ORM query of telematics (the raw signals are in `signal_store`). Reads of vehicles and
their facts take the caller and apply its scope; writes flush only."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Uuid,
    and_,
    any_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.telematics.models import (
    AppUse,
    ChargingSession,
    DailyMileage,
    DerivationCursor,
    Fault,
    FittedPart,
    LocationConsent,
    OwnershipPeriod,
    PartFailure,
    QualityAlert,
    ServiceDueRow,
    ServiceVisit,
    SettingsRow,
    Trip,
    Vehicle,
    VehicleState,
)
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams
from shared.scoping import in_visible_dealers

M = TypeVar("M", bound=SQLModel)


def vehicle_scope(caller: Caller) -> ColumnElement[bool]:
    """Owners see the vehicles they own now, dealers those they sold or service, staff all."""
    match caller.kind:
        case CallerKind.OWNER:
            return Vehicle.owner_id == caller.owner_id if caller.owner_id else false()
        case CallerKind.DEALER:
            return or_(
                in_visible_dealers(Vehicle.servicing_dealer_id, caller),
                in_visible_dealers(Vehicle.selling_dealer_id, caller),
            )
        case CallerKind.STAFF:
            return true()
    return false()


def owned_by(model, caller: Caller) -> ColumnElement[bool]:
    """An owner sees the trips and charging of their own time with a vehicle, not a previous
    owner's; dealers and staff see the vehicle's."""
    return model.owner_id == caller.owner_id if caller.kind is CallerKind.OWNER else true()


class TelematicsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, model: M) -> M:
        self.session.add(model)
        await self.session.flush()
        return model

    async def get(self, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
        return await self.session.get(model, key, with_for_update=for_update)

    async def upsert(
        self, model: type[SQLModel], values: dict[str, Any], *, insert_only: set[str] = frozenset()
    ) -> None:
        """Inserts a projected record or overwrites the fields given, except `insert_only`."""
        keys = [column.name for column in model.__table__.primary_key.columns]
        statement = insert(model).values(**values)
        changed = {
            name: statement.excluded[name]
            for name in values
            if name not in keys and name not in insert_only
        }
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=keys, set_=changed)
            if changed
            else statement.on_conflict_do_nothing(index_elements=keys)
        )

    async def insert_new(self, model: type[SQLModel], values: dict[str, Any], *keys: str) -> bool:
        """Inserts unless a row with the same `keys` exists; whether it inserted."""
        statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
        inserted = await self.session.execute(statement.returning(model.__table__.c.id))
        return inserted.first() is not None

    # Projections

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

    # Derivation

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

    # Views

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

    # Settings and quality

    async def settings(self, key: str) -> SettingsRow | None:
        return await self.session.get(SettingsRow, key)

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
