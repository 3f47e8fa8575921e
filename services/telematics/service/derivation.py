"""Derived facts from committed rows, one vehicle at a time: trips and behaviour, charging
sessions, fault codes, mileage and the service due date. Each fact is stored and announced
(outbox) in the transaction that moves the vehicle's cursor, so a restart neither loses nor
repeats one."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics import domain
from services.telematics.domain import AnalysisSettings, Point, Segment
from services.telematics.models import (
    ChargingSession,
    DerivationCursor,
    Fault,
    ServiceDueRow,
    Trip,
    Vehicle,
)
from services.telematics.repository import TelematicsRepository
from services.telematics.signal_store import points_since
from shared.contracts.telematics import (
    ChargingSessionCompleted,
    DrivingBehaviourUpdated,
    DtcCleared,
    DtcRaised,
    ServiceDuePredicted,
    TripCompleted,
    TripStarted,
)
from shared.messaging.envelope import Event
from shared.messaging.outbox import record_event

BEHAVIOUR_WINDOW_DAYS = 30
GAP = timedelta(seconds=domain.GAP_SECONDS)


class Derivation:
    """The facts of one vehicle's new rows, within the caller's transaction."""

    def __init__(
        self,
        session: AsyncSession,
        cursor: DerivationCursor,
        vehicle: Vehicle,
        *,
        now: datetime,
        settings: AnalysisSettings,
        reread_pause: timedelta,
    ) -> None:
        self.session = session
        self.reread_pause = reread_pause
        self.repository = TelematicsRepository(session)
        self.cursor = cursor
        self.vehicle = vehicle
        self.now = now
        self.settings = settings

    async def run(self, row_limit: int) -> None:
        points = await points_since(
            self.session, self.vehicle.id, self.cursor.resume_from, limit=row_limit
        )
        # A full read may stop mid-trip: judge silence by its last row, and come back for more.
        truncated = len(points) >= row_limit
        clock = points[-1].ts if truncated else self.now
        if points:
            trips = domain.segment_trips(points, clock)
            sessions = domain.segment_charging(points, clock)
            await self._trips(trips)
            await self._charging(sessions)
            await self._faults(points)
            await self._mileage(points)
            self._advance(points, [*trips, *sessions])
        await self._service_due()
        self.cursor.dirty = truncated
        await self.session.flush()

    async def _publish(self, event: Event) -> None:
        await record_event(
            self.session,
            event,
            subject=self.vehicle.id,
            owner_id=self.vehicle.owner_id,
            dealer_id=self.vehicle.servicing_dealer_id,
        )

    def _who(self) -> dict:
        return {"vehicle_id": self.vehicle.id, "vin": self.vehicle.vin}

    # Trips and behaviour

    async def _trips(self, trips: Sequence[Segment]) -> None:
        completed = []
        for trip in trips:
            if not trip.closed:
                await self._announce_start(trip)
            elif (facts := domain.trip_facts(trip, self.settings)) and await self._save_trip(facts):
                completed.append(facts)
        if completed:
            await self._behaviour()

    def _trip_id(self, started_at: datetime) -> uuid.UUID:
        if self.cursor.open_trip_id and self.cursor.open_trip_started_at == started_at:
            return self.cursor.open_trip_id
        return uuid.uuid4()

    async def _announce_start(self, trip: Segment) -> None:
        if self.cursor.open_trip_started_at == trip.started_at:
            return
        self.cursor.open_trip_id = uuid.uuid4()
        self.cursor.open_trip_started_at = trip.started_at
        await self._publish(
            TripStarted(
                trip_id=self.cursor.open_trip_id,
                owner_id=self.vehicle.owner_id,
                started_at=trip.started_at,
                **self._who(),
            )
        )

    async def _save_trip(self, facts: domain.TripFacts) -> bool:
        trip_id = self._trip_id(facts.started_at)
        values = {
            "id": trip_id,
            "vehicle_id": self.vehicle.id,
            "owner_id": self.vehicle.owner_id,
            **{name: getattr(facts, name) for name in _TRIP_FIELDS},
        }
        if not await self.repository.insert_new(Trip, values, "vehicle_id", "started_at"):
            return False
        await self.repository.new_apps(self.vehicle.id, set(facts.apps), facts.started_at)
        await self._publish(
            TripCompleted(
                trip_id=trip_id,
                owner_id=self.vehicle.owner_id,
                started_at=facts.started_at,
                ended_at=facts.ended_at,
                distance_km=facts.distance_km,
                energy_kwh=facts.energy_kwh,
                efficiency_wh_per_km=facts.efficiency_wh_per_km,
                harsh_accelerations=facts.harsh_accelerations,
                harsh_brakings=facts.harsh_brakings,
                **self._who(),
            )
        )
        return True

    async def _behaviour(self) -> None:
        since = self.now - timedelta(days=BEHAVIOUR_WINDOW_DAYS)
        trips = await self.repository.trips_since(self.vehicle.id, since)
        behaviour = domain.rolling_behaviour(
            [
                domain.TripSummary(**{name: getattr(trip, name) for name in _SUMMARY_FIELDS})
                for trip in trips
            ]
        )
        await self._publish(
            DrivingBehaviourUpdated(
                owner_id=self.vehicle.owner_id,
                window_days=BEHAVIOUR_WINDOW_DAYS,
                trips=behaviour.trips,
                distance_km=behaviour.distance_km,
                harsh_accelerations_per_100km=behaviour.harsh_accelerations_per_100km,
                harsh_brakings_per_100km=behaviour.harsh_brakings_per_100km,
                overspeed_share=behaviour.overspeed_share,
                night_share=behaviour.night_share,
                assisted_driving_share=behaviour.assisted_share,
                new_apps=await self.repository.apps_first_used_since(self.vehicle.id, since),
                destination_categories=behaviour.destination_categories,
                computed_at=self.now,
                **self._who(),
            )
        )

    # Charging

    async def _charging(self, sessions: Sequence[Segment]) -> None:
        for segment in sessions:
            facts = domain.charging_facts(segment, self.settings) if segment.closed else None
            if facts is None:
                continue
            session_id = uuid.uuid4()
            values = {
                "id": session_id,
                "vehicle_id": self.vehicle.id,
                "owner_id": self.vehicle.owner_id,
                **{name: getattr(facts, name) for name in _CHARGING_FIELDS},
            }
            if await self.repository.insert_new(
                ChargingSession, values, "vehicle_id", "started_at"
            ):
                await self._publish(
                    ChargingSessionCompleted(
                        session_id=session_id,
                        owner_id=self.vehicle.owner_id,
                        **{
                            name: getattr(facts, name)
                            for name in _CHARGING_FIELDS
                            if name not in ("latitude", "longitude")
                        },
                        **self._who(),
                    )
                )

    # Fault codes

    async def _faults(self, points: Sequence[Point]) -> None:
        seen_until = self.cursor.faults_seen_until
        fresh = [p for p in points if seen_until is None or p.ts > seen_until]
        active = await self.repository.active_faults(self.vehicle.id)
        for change in domain.fault_changes(fresh, set(active)):
            if change.raised:
                active[change.code] = await self._raise(change)
            else:
                active.pop(change.code).cleared_at = change.at
                await self._publish(
                    DtcCleared(
                        owner_id=self.vehicle.owner_id,
                        code=change.code,
                        cleared_at=change.at,
                        **self._who(),
                    )
                )
        await self.session.flush()

    async def _raise(self, change: domain.FaultChange) -> Fault:
        component = self.settings.component_of(change.code)
        mileage = change.mileage_km if change.mileage_km is not None else self.vehicle.mileage_km
        fault = await self.repository.add(
            Fault(
                vehicle_id=self.vehicle.id,
                code=change.code,
                component=component,
                mileage_km=mileage,
                raised_at=change.at,
            )
        )
        part = await self.repository.current_part(self.vehicle.id, component) if component else None
        if part is not None and mileage is not None:
            await self.repository.record_failure(part, mileage, change.at, "dtc")
        await self._publish(
            DtcRaised(
                owner_id=self.vehicle.owner_id,
                servicing_dealer_id=self.vehicle.servicing_dealer_id,
                code=change.code,
                component=component,
                mileage_km=mileage,
                raised_at=change.at,
                **self._who(),
            )
        )
        return fault

    # Mileage and service due

    async def _mileage(self, points: Sequence[Point]) -> None:
        readings = [(p.ts, p.odometer_m / 1000) for p in points if p.odometer_m is not None]
        if not readings:
            return
        daily: dict[date, float] = {}
        for moment, km in readings:
            daily[moment.date()] = max(km, daily.get(moment.date(), 0.0))
        await self.repository.record_daily_mileage(self.vehicle.id, daily)
        highest = max(km for _, km in readings)
        lowest = min(km for _, km in readings)
        if self.vehicle.mileage_km is None or highest >= self.vehicle.mileage_km:
            self.vehicle.mileage_km = highest
            self.vehicle.mileage_at = readings[-1][0]
        if self.vehicle.first_mileage_km is None or lowest < self.vehicle.first_mileage_km:
            self.vehicle.first_mileage_km = lowest

    async def _service_due(self) -> None:
        today = self.now.date()
        if self.cursor.predicted_on == today or self.vehicle.mileage_km is None:
            return
        self.cursor.predicted_on = today
        last = await self.repository.last_service(self.vehicle.id)
        pace = await self.repository.km_per_day(self.vehicle.id, today)
        due = domain.service_due(
            today=today,
            mileage_km=self.vehicle.mileage_km,
            km_per_day=pace,
            last_service_date=last.visit_date if last else self.vehicle.delivery_date or today,
            last_service_km=last.mileage_km if last else self.vehicle.first_mileage_km or 0.0,
            settings=self.settings,
        )
        previous = await self.repository.get(ServiceDueRow, self.vehicle.id)
        await self.repository.upsert(
            ServiceDueRow,
            {
                "vehicle_id": self.vehicle.id,
                "due_date": due.due_date,
                "reason": due.reason.value,
                "mileage_km": self.vehicle.mileage_km,
                "km_per_day": round(pace, 2),
                "predicted_at": self.now,
            },
        )
        if previous is None or (previous.due_date, previous.reason) != (due.due_date, due.reason):
            await self._publish(
                ServiceDuePredicted(
                    owner_id=self.vehicle.owner_id,
                    servicing_dealer_id=self.vehicle.servicing_dealer_id,
                    due_date=due.due_date,
                    reason=due.reason.value,
                    mileage_km=self.vehicle.mileage_km,
                    km_per_day=round(pace, 2),
                    predicted_at=self.now,
                    **self._who(),
                )
            )

    # The cursor

    def _advance(self, points: Sequence[Point], segments: Sequence[Segment]) -> None:
        """Rows from the start of what is still open are read again next time; a vehicle with
        something open is looked at again once its silence would close it."""
        open_starts = [segment.started_at for segment in segments if not segment.closed]
        last = points[-1].ts
        self.cursor.resume_from = min(open_starts) if open_starts else last + timedelta(seconds=1)
        self.cursor.faults_seen_until = last
        self.cursor.recheck_at = last + GAP if open_starts else None
        self.cursor.not_before = self.now + self.reread_pause if open_starts else None
        if not any(
            not s.closed and s.started_at == self.cursor.open_trip_started_at for s in segments
        ):
            self.cursor.open_trip_id = self.cursor.open_trip_started_at = None


_TRIP_FIELDS = (
    "started_at",
    "ended_at",
    "points",
    "distance_km",
    "duration_seconds",
    "energy_kwh",
    "efficiency_wh_per_km",
    "harsh_accelerations",
    "harsh_brakings",
    "overspeed_share",
    "night_share",
    "assisted_share",
    "apps",
    "destination",
)
_SUMMARY_FIELDS = (
    "distance_km",
    "duration_seconds",
    "harsh_accelerations",
    "harsh_brakings",
    "overspeed_share",
    "night_share",
    "assisted_share",
    "destination",
)
_CHARGING_FIELDS = (
    "started_at",
    "ended_at",
    "start_soc",
    "end_soc",
    "energy_kwh",
    "peak_power_kw",
    "fast",
    "cost",
    "currency",
    "latitude",
    "longitude",
)


async def derive_next(
    session: AsyncSession,
    *,
    now: datetime,
    settings: AnalysisSettings,
    row_limit: int,
    reread_pause: timedelta,
) -> bool:
    """Derives the facts of one vehicle that needs it; whether there was one."""
    repository = TelematicsRepository(session)
    cursor = await repository.claim_vehicle(now)
    if cursor is None:
        return False
    vehicle = await repository.get(Vehicle, cursor.vehicle_id, for_update=True)
    if vehicle is None:
        cursor.dirty = False
        cursor.recheck_at = None
        return True
    await Derivation(
        session, cursor, vehicle, now=now, settings=settings, reread_pause=reread_pause
    ).run(row_limit)
    return True
