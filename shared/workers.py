"""What the services' background workers (timers, deliveries, analyses) have in common.

A worker's pass claims due rows with `FOR UPDATE SKIP LOCKED`, a batch per transaction, so
any number of replicas can run it, a restart loses nothing and nothing is done twice. The
clock is injected, so tests move time instead of waiting for it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import ClassVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from shared.database import Database

log = structlog.get_logger("workers")

Clock = Callable[[], datetime]


class Worker:
    """A background loop: `run_once` does what is due now (up to `batch` rows a transaction)
    and returns how much; `run` repeats it every `poll_seconds`. A pass that did something
    is logged as `done_event` with its count; a failing pass as `failed_event`, then retried
    with back-off (0.4 s, doubling, at most 5 s). A subclass names its events and default
    `batch` and `poll_seconds`; a caller may override the two."""

    done_event: ClassVar[str]
    failed_event: ClassVar[str]
    batch: int
    poll_seconds: float

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        batch: int | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        if batch is not None:
            self.batch = batch
        if poll_seconds is not None:
            self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        raise NotImplementedError

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                if done := await self.run_once():
                    log.info(self.done_event, count=done)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                log.warning(self.failed_event, error=repr(error))
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            await asyncio.sleep(self.poll_seconds)


async def drain(
    database: Database, batch: int, claim: Callable[[AsyncSession], Awaitable[int]]
) -> int:
    """Runs `claim` (which does up to `batch` items) in one transaction after another until
    it comes back short; returns how many items were done."""
    done = 0
    while True:
        async with database.transaction() as session:
            claimed = await claim(session)
        done += claimed
        if claimed < batch:
            return done
