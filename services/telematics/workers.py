"""Telematics' background workers. Their work is claimed from PostgreSQL (FOR UPDATE SKIP
LOCKED), so any number of replicas may run them and a restart loses nothing. The clock is
injected, so tests move time instead of waiting for it."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from services.telematics.config import TelematicsSettings
from services.telematics.service import derivation, privacy, quality
from services.telematics.service.settings import analysis_settings
from shared.database import Database

log = structlog.get_logger("telematics_workers")

Clock = Callable[[], datetime]


async def _forever(name: str, run_once: Callable[[], Awaitable[int]], poll_seconds: float) -> None:
    """Runs a pass, sleeps, again; a failing pass is logged and retried with back-off."""
    failures = 0
    while True:
        try:
            if done := await run_once():
                log.info(name, count=done)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as error:
            failures += 1
            log.warning(f"{name}_failed", error=repr(error))
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
            continue
        await asyncio.sleep(poll_seconds)


class DerivationWorker:
    def __init__(self, database: Database, settings: TelematicsSettings, clock: Clock) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock

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

    async def run(self) -> None:
        await _forever("vehicles_derived", self.run_once, self.settings.derivation_poll_seconds)


class QualityWorker:
    def __init__(self, database: Database, settings: TelematicsSettings, clock: Clock) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock

    async def run_once(self) -> int:
        async with self.database.transaction() as session:
            report = await quality.analyse(session, now=self.clock())
        return report.alerts_raised

    async def run(self) -> None:
        await _forever(
            "quality_alerts_raised", self.run_once, self.settings.quality_interval_seconds
        )


class RetentionWorker:
    """Raw location tracks older than the retention are erased."""

    def __init__(self, database: Database, settings: TelematicsSettings, clock: Clock) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock

    async def run_once(self) -> int:
        before = self.clock() - timedelta(days=self.settings.location_retention_days)
        async with self.database.transaction() as session:
            return await privacy.expire_locations(session, before)

    async def run(self) -> None:
        await _forever("locations_expired", self.run_once, self.settings.retention_interval_seconds)
