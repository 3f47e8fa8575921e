"""The segment timer: recomputes segments whose `recompute_at` has passed (stored in
PostgreSQL, claimed with `FOR UPDATE SKIP LOCKED`, so replicas share it and restarts lose
nothing). The clock is injected, so tests move time instead of waiting for it."""

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog

from services.profile.service.segments import recompute_due
from shared.database import Database

log = structlog.get_logger("segment_timer")

Clock = Callable[[], datetime]


class SegmentTimer:
    def __init__(
        self, database: Database, *, clock: Clock, batch: int = 10, poll_seconds: float = 60.0
    ) -> None:
        self.database = database
        self.clock = clock
        self.batch = batch
        self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        done = 0
        while True:
            async with self.database.transaction() as session:
                recomputed = await recompute_due(session, now=self.clock(), limit=self.batch)
            done += recomputed
            if recomputed < self.batch:
                return done

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                if done := await self.run_once():
                    log.info("segments_recomputed", count=done)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                log.warning("segment_timer_failed", error=repr(error))
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            await asyncio.sleep(self.poll_seconds)
