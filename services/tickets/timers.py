"""The SLA worker: fires due SLA timers (stored in PostgreSQL) as breaches and escalations.

Each pass claims due clocks with `FOR UPDATE SKIP LOCKED` in its own transaction, so any
number of replicas can run it, a restart loses nothing, and no breach fires twice. The
clock is injected, so tests move time instead of waiting for it.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog

from services.tickets.service import sla
from shared.database import Database

log = structlog.get_logger("sla_worker")

Clock = Callable[[], datetime]


class SlaWorker:
    def __init__(
        self, database: Database, *, clock: Clock, batch: int = 100, poll_seconds: float = 5.0
    ) -> None:
        self.database = database
        self.clock = clock
        self.batch = batch
        self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        """Fires every timer due now; returns how many fired."""
        fired = 0
        while True:
            async with self.database.transaction() as session:
                batch = await sla.fire_due(session, now=self.clock(), limit=self.batch)
            fired += batch
            if batch < self.batch:
                return fired

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                if fired := await self.run_once():
                    log.info("sla_timers_fired", count=fired)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                log.warning("sla_worker_failed", error=repr(error))
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            await asyncio.sleep(self.poll_seconds)
