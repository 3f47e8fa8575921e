"""Derived facts from committed rows, one vehicle at a time, as a stream: each pass reads the
rows after the vehicle's cursor (at most a row limit) and feeds them, once, to what it
carries of the open trip and charging session (`domain.stream`), so a trip of any length
costs the same per row. Each fact is stored and announced (outbox) in the transaction that
moves the cursor, so a restart neither loses nor repeats one.

Rows for a time already derived (late rows: a vehicle sending its backlog after newer rows)
send the cursor back to a moment where nothing was open before them (`domain.rewind`); the
stream is then derived again from there, and the trips and sessions it finds correct those
stored where they overlap."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.domain import (
    GAP,
    AnalysisSettings,
    Closed,
    Point,
    Span,
    StreamState,
    TripTally,
    advance,
    close_silent,
    dump_state,
    load_state,
    rewind_start,
)
from services.telematics.repository import TelematicsRepository
from services.telematics.service.derived import DerivedFacts
from services.telematics.signal_store import points_after

JUST_BEFORE = timedelta(microseconds=1)


class Derivation:
    """One pass over one vehicle's new rows, within the transaction of `facts`."""

    def __init__(self, facts: DerivedFacts) -> None:
        self.facts = facts
        self.session, self.repository = facts.session, facts.repository
        self.cursor, self.vehicle = facts.cursor, facts.vehicle
        self.now, self.settings = facts.now, facts.settings

    async def run(self, row_limit: int) -> bool:
        """Whether rows are left for another pass (the row limit was reached)."""
        state = load_state(self.cursor.state)
        if self._late_rows():
            state = await self._rewind(state)
        points = await points_after(
            self.session, self.vehicle.id, self.cursor.derived_until, limit=row_limit
        )
        # A full read may stop mid-trip: silence is judged only once every row is read.
        truncated = len(points) >= row_limit
        closed = advance(state, points, self.settings)
        if points:
            state.fed_at = self.now
        silenced = Closed() if truncated else close_silent(state, self.now)
        await self.facts.trips([*closed.trips, *silenced.trips])
        await self.facts.charging([*closed.sessions, *silenced.sessions])
        await self.facts.faults(points)
        await self.facts.mileage(points)
        if state.trip is not None and not truncated and self._under_way(state.trip.last_at):
            await self.facts.announce_start(state.trip.kept.started_at)
        await self.facts.service_due()
        self._advance(
            state, points, truncated=truncated, silenced=bool(silenced.trips or silenced.sessions)
        )
        await self.session.flush()
        return truncated

    def _under_way(self, last_at: datetime) -> bool:
        """A trip from a backlog (its last row over an hour old) is not announced as started:
        it is not under way, only not yet over."""
        return self.now - last_at < GAP

    def _late_rows(self) -> bool:
        arrived, derived = self.cursor.arrived_from, self.cursor.derived_until
        return arrived is not None and derived is not None and arrived <= derived

    async def _rewind(self, state: StreamState) -> StreamState:
        """Back to before the late rows, where nothing was open. Every row of a stored trip or
        session is read again, so each one overlaps what the stream finds there anew."""
        assert self.cursor.arrived_from is not None and self.cursor.derived_until is not None
        open_spans = [
            Span(run.started_at, run.ended_at, isinstance(run.tally, TripTally))
            for run in state.open_runs()
        ]
        moment, quiet = self.cursor.arrived_from, frozenset[bool]()
        while True:
            stored = await self.repository.spans_before(self.vehicle.id, moment)
            earlier = rewind_start(moment, [*stored, *open_spans], quiet)
            if earlier is None:
                break
            moment, quiet = earlier
        self.cursor.derived_until = moment - JUST_BEFORE
        return StreamState()

    def _advance(
        self, state: StreamState, points: Sequence[Point], *, truncated: bool, silenced: bool
    ) -> None:
        cursor = self.cursor
        if points:
            cursor.derived_until = points[-1].ts
        if silenced:  # closed for want of rows until now: rows before now come late
            cursor.derived_until = max(cursor.derived_until or self.now, self.now)
        cursor.state = dump_state(state) if state.open_runs() else None
        # A vehicle with something open is looked at again once its silence would close it.
        cursor.recheck_at = state.closes_at()
        if state.trip is None or state.trip.kept.started_at != cursor.open_trip_started_at:
            cursor.open_trip_id = cursor.open_trip_started_at = None
        cursor.dirty = truncated
        cursor.arrived_from = None


async def vehicles_to_derive(
    session: AsyncSession, now: datetime, after: uuid.UUID | None, *, limit: int
) -> list[uuid.UUID]:
    return await TelematicsRepository(session).vehicles_to_derive(now, after, limit=limit)


async def derive_vehicle(
    session: AsyncSession,
    vehicle_id: uuid.UUID,
    *,
    now: datetime,
    settings: AnalysisSettings,
    row_limit: int,
) -> bool:
    """One pass over the vehicle, unless it no longer needs one or another worker holds it;
    whether rows are left for another pass."""
    claimed = await TelematicsRepository(session).claim_vehicle(vehicle_id, now)
    if claimed is None:
        return False
    cursor, vehicle = claimed
    facts = DerivedFacts(session, cursor, vehicle, now=now, settings=settings)
    return await Derivation(facts).run(row_limit)
