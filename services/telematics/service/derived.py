"""How each derived fact of one vehicle is stored and announced (outbox), within the pass's
transaction: trips and behaviour, charging sessions, fault codes, mileage and the service
due date. A trip or session derived again (rows came late) corrects the one stored where
they overlap, keeping its id, and is announced again only if it changed."""

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics import domain
from services.telematics.domain import AnalysisSettings, ChargingTally, Point, Run, TripTally
from services.telematics.models import (
    ChargingSession,
    DerivationCursor,
    Fault,
    ServiceDueRow,
    Trip,
    Vehicle,
)
from services.telematics.repository import TelematicsRepository
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
from shared.messaging.outbox import record_event_at_commit

BEHAVIOUR_WINDOW_DAYS = 30


class Overlaps:
    """Stored trips (or sessions) around a pass's runs, read in one query: each run takes
    those it overlaps, oldest first, and what one run corrects or deletes the next one sees
    (a pass's runs never overlap one another, so one never takes what another stored)."""

    def __init__(self, repository: TelematicsRepository, rows: Sequence) -> None:
        self.repository = repository
        self.rows = list(rows)

    def of(self, run: Run) -> list:
        return sorted(
            (r for r in self.rows if r.started_at <= run.ended_at and r.ended_at >= run.started_at),
            key=lambda row: row.started_at,
        )

    async def delete(self, row) -> None:
        self.rows.remove(row)
        await self.repository.delete(row)


class DerivedFacts:
    def __init__(
        self,
        session: AsyncSession,
        cursor: DerivationCursor,
        vehicle: Vehicle,
        *,
        now: datetime,
        settings: AnalysisSettings,
    ) -> None:
        self.session = session
        self.repository = TelematicsRepository(session)
        self.cursor = cursor
        self.vehicle = vehicle
        self.now = now
        self.settings = settings
        self.first_uses: dict[str, datetime] = {}  # app -> its first use among the pass's trips

    def _publish(self, event: Event) -> None:
        record_event_at_commit(
            self.session,
            event,
            subject=self.vehicle.id,
            owner_id=self.vehicle.owner_id,
            dealer_id=self.vehicle.servicing_dealer_id,
        )

    def _who(self) -> dict:
        return {"vehicle_id": self.vehicle.id, "vin": self.vehicle.vin}

    async def _settle(
        self, model, stored: "Overlaps", run: Run, facts: dict[str, Any], new_id: uuid.UUID
    ):
        """Stores a trip or session where none overlaps it, or corrects the first that does
        (those after it were parts of it); returns the stored row, or None if unchanged."""
        keep, *absorbed = stored.of(run) or [None]
        for row in absorbed:
            await stored.delete(row)
        if keep is None:
            # Not flushed one by one: a pass's new rows go in one INSERT at the next flush.
            row = model(
                id=new_id, vehicle_id=self.vehicle.id, owner_id=self.vehicle.owner_id, **facts
            )
            self.session.add(row)
            return row
        if not absorbed and all(getattr(keep, name) == value for name, value in facts.items()):
            return None
        for name, value in facts.items():
            setattr(keep, name, value)
        await self.session.flush()
        return keep

    async def _overlaps(self, model, runs: Sequence[Run]) -> "Overlaps":
        """What is stored of `model` around the pass's runs, read once for all of them."""
        if not runs:
            return Overlaps(self.repository, [])
        start = min(run.started_at for run in runs)
        end = max(run.ended_at for run in runs)
        rows = await self.repository.overlapping(model, self.vehicle.id, start, end)
        return Overlaps(self.repository, rows)

    # Trips and behaviour

    async def trips(self, runs: Sequence[Run[TripTally]]) -> None:
        changed = False
        stored = await self._overlaps(Trip, runs)
        for run in runs:
            facts = run.tally.facts()
            if facts is None:  # too short to count (now): so is what it overlapped
                overlapped = stored.of(run)
                for trip in overlapped:
                    await stored.delete(trip)
                changed = changed or bool(overlapped)
            elif trip := await self._settle(
                Trip, stored, run, _values(facts), self._trip_id(facts)
            ):
                await self._completed(trip, facts)
                changed = True
        await self.repository.new_apps(self.vehicle.id, self.first_uses)
        if changed:
            await self._behaviour()

    def _trip_id(self, facts: domain.TripFacts) -> uuid.UUID:
        """The id it was announced with when it started, if it was."""
        announced = self.cursor.open_trip_started_at == facts.started_at
        return self.cursor.open_trip_id if announced and self.cursor.open_trip_id else uuid.uuid4()

    async def _completed(self, trip: Trip, facts: domain.TripFacts) -> None:
        for app in facts.apps:  # recorded once a pass, at the earliest use the pass saw
            earlier = self.first_uses.get(app)
            self.first_uses[app] = min(earlier, facts.started_at) if earlier else facts.started_at
        self._publish(
            TripCompleted(
                trip_id=trip.id,
                owner_id=trip.owner_id,
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

    async def announce_start(self, started_at: datetime) -> None:
        """A trip under way is announced once, with the id it will complete with."""
        if self.cursor.open_trip_started_at == started_at:
            return
        self.cursor.open_trip_id = uuid.uuid4()
        self.cursor.open_trip_started_at = started_at
        self._publish(
            TripStarted(
                trip_id=self.cursor.open_trip_id,
                owner_id=self.vehicle.owner_id,
                started_at=started_at,
                **self._who(),
            )
        )

    async def _behaviour(self) -> None:
        since = self.now - timedelta(days=BEHAVIOUR_WINDOW_DAYS)
        trips = await self.repository.trip_summaries_since(self.vehicle.id, since)
        behaviour = domain.rolling_behaviour(trips)
        self._publish(
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

    async def charging(self, runs: Sequence[Run[ChargingTally]]) -> None:
        stored = await self._overlaps(ChargingSession, runs)
        for run in runs:
            facts = run.tally.facts(self.settings)
            if facts is None:
                for session in stored.of(run):
                    await stored.delete(session)
                continue
            if session := await self._settle(
                ChargingSession, stored, run, _values(facts), uuid.uuid4()
            ):
                self._publish(
                    ChargingSessionCompleted(
                        session_id=session.id,
                        owner_id=session.owner_id,
                        **{
                            name: value
                            for name, value in _values(facts).items()
                            if name not in ("latitude", "longitude")
                        },
                        **self._who(),
                    )
                )

    # Fault codes

    async def faults(self, points: Sequence[Point]) -> None:
        """In report order, once: a report older than one already seen (a late row) does not
        reopen or close what the newer report decided."""
        seen_until = self.cursor.faults_seen_until
        fresh = points
        if seen_until is not None and points and points[0].ts <= seen_until:
            fresh = [p for p in points if p.ts > seen_until]
        if not fresh:
            return
        self.cursor.faults_seen_until = fresh[-1].ts
        if all(point.dtcs is None for point in fresh):  # no report: nothing can change
            return
        active = await self.repository.active_faults(self.vehicle.id)
        for change in domain.fault_changes(fresh, set(active)):
            if change.raised:
                active[change.code] = await self._raise(change)
            else:
                active.pop(change.code).cleared_at = change.at
                self._publish(
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
        self._publish(
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

    async def mileage(self, points: Sequence[Point]) -> None:
        readings = [p for p in points if p.odometer_m is not None]
        if not readings:
            return
        daily = _daily_highest_m(readings)
        await self.repository.record_daily_mileage(
            self.vehicle.id, {day: metres / 1000 for day, metres in daily.items()}
        )
        highest = max(daily.values()) / 1000
        lowest = min(p.odometer_m for p in readings) / 1000
        if self.vehicle.mileage_km is None or highest >= self.vehicle.mileage_km:
            self.vehicle.mileage_km = highest
            self.vehicle.mileage_at = readings[-1].ts
        if self.vehicle.first_mileage_km is None or lowest < self.vehicle.first_mileage_km:
            self.vehicle.first_mileage_km = lowest

    async def service_due(self) -> None:
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
            self._publish(
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


def _daily_highest_m(readings: Sequence[Point]) -> dict[date, float]:
    """Each day's highest odometer reading, in metres. Readings come in time order, so a
    day's follow one another: the date is worked out when a day ends, not per reading."""
    daily: dict[date, float] = {}
    day, day_ends = None, None
    for point in readings:
        metres = point.odometer_m
        if day_ends is None or point.ts >= day_ends:
            day = point.ts.date()
            day_ends = datetime.combine(day + timedelta(days=1), time(), point.ts.tzinfo)
            daily[day] = max(metres, daily.get(day, metres))
        elif metres > daily[day]:
            daily[day] = metres
    return daily


def _values(facts: domain.TripFacts | domain.ChargingFacts) -> dict[str, Any]:
    """The facts as stored: every field of a trip's or session's facts is a column."""
    return {field.name: getattr(facts, field.name) for field in fields(facts)}
