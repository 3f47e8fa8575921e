"""Telematics' background workers. Their work is claimed from PostgreSQL (FOR UPDATE SKIP
LOCKED), so any number of replicas may run them and a restart loses nothing. The clock is
injected, so tests move time instead of waiting for it."""

from datetime import timedelta

from services.telematics.config import TelematicsSettings
from services.telematics.service import derivation, privacy, quality
from services.telematics.service.settings import analysis_settings
from shared.database import Database
from shared.workers import Clock, Worker


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
        """Derives every vehicle that needs it now, one transaction per vehicle, by the
        analysis settings as they stand when the pass begins."""
        vehicles = 0
        async with self.database.transaction() as session:
            settings = await analysis_settings(session)
        while True:
            async with self.database.transaction() as session:
                found = await derivation.derive_next(
                    session,
                    now=self.clock(),
                    settings=settings,
                    row_limit=self.settings.derivation_row_limit,
                )
            if not found:
                return vehicles
            vehicles += 1


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
