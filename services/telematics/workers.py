"""Telematics' background workers. Their work is claimed from PostgreSQL (FOR UPDATE SKIP
LOCKED), so any number of replicas may run them and a restart loses nothing. The clock is
injected, so tests move time instead of waiting for it."""

import uuid
from datetime import timedelta

from services.telematics.config import TelematicsSettings
from services.telematics.domain import AnalysisSettings
from services.telematics.service import derivation, privacy, quality
from services.telematics.service.settings import analysis_settings
from shared.database import Database
from shared.workers import Clock, Worker

# Vehicles a sweep lists at a time.
SWEEP_PAGE = 1_000


class _TelematicsWorker(Worker):
    """Runs by the service's settings; `interval` names the setting that spaces its passes."""

    interval: str

    def __init__(self, database: Database, settings: TelematicsSettings, clock: Clock) -> None:
        super().__init__(database, clock=clock, poll_seconds=getattr(settings, self.interval))
        self.settings = settings


class DerivationWorker(_TelematicsWorker):
    done_event = "vehicles_derived"
    failed_event = "vehicles_derived_failed"
    interval = "derivation_poll_seconds"

    async def run_once(self) -> int:
        """A sweep: each vehicle that needs derivation, once, in id order, one transaction
        per pass (a backlog over the row limit takes several, one after another), by the
        analysis settings as they stand when the sweep begins. Rows that arrive for a vehicle
        after its turn wait for the next sweep: under a steady stream a pass reads a poll
        interval's rows, not the handful that came since the last one (with passes taken as
        vehicles were marked, the per-pass queries cost more than the rows)."""
        async with self.database.transaction() as session:
            settings = await analysis_settings(session)
        vehicles, after = 0, None
        while True:
            async with self.database.transaction() as session:
                due = await derivation.vehicles_to_derive(
                    session, self.clock(), after, limit=SWEEP_PAGE
                )
            for vehicle_id in due:
                while await self._derive(vehicle_id, settings):
                    pass
            vehicles += len(due)
            if len(due) < SWEEP_PAGE:
                return vehicles
            after = due[-1]

    async def _derive(self, vehicle_id: uuid.UUID, settings: AnalysisSettings) -> bool:
        async with self.database.transaction() as session:
            return await derivation.derive_vehicle(
                session,
                vehicle_id,
                now=self.clock(),
                settings=settings,
                row_limit=self.settings.derivation_row_limit,
            )


class QualityWorker(_TelematicsWorker):
    done_event = "quality_alerts_raised"
    failed_event = "quality_alerts_raised_failed"
    interval = "quality_interval_seconds"

    async def run_once(self) -> int:
        async with self.database.transaction() as session:
            report = await quality.analyse(session, now=self.clock())
        return report.alerts_raised


class RetentionWorker(_TelematicsWorker):
    """Raw location tracks older than the retention are erased."""

    done_event = "locations_expired"
    failed_event = "locations_expired_failed"
    interval = "retention_interval_seconds"

    async def run_once(self) -> int:
        before = self.clock() - timedelta(days=self.settings.location_retention_days)
        async with self.database.transaction() as session:
            return await privacy.expire_locations(session, before)
