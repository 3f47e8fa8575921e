"""The workers: the step worker (due instances and date triggers) and the delivery worker.

Each pass claims its rows with `FOR UPDATE SKIP LOCKED` in its own transaction, so any
number of replicas can run them, a restart loses nothing (timers are `due_at` columns), and
no step runs twice. The clock is injected, so tests move time instead of waiting for it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog

from services.journeys.service import deliveries, engine, entry
from services.journeys.service.deliveries import DeliveryRules, Sender
from shared.database import Database

log = structlog.get_logger("journeys_workers")

Clock = Callable[[], datetime]


class StepWorker:
    def __init__(
        self, database: Database, *, clock: Clock, batch: int = 500, poll_seconds: float = 2.0
    ) -> None:
        self.database = database
        self.clock = clock
        self.batch = batch
        self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        """Enters today's date-triggered owners, then runs every due instance."""
        async with self.database.transaction() as session:
            await entry.schedule_dates(session, now=self.clock())
        return await _drain(self.database, self.batch, lambda session: engine.run_due(
            session, now=self.clock(), limit=self.batch))  # fmt: skip

    async def run(self) -> None:
        await _forever(self.run_once, self.poll_seconds, "step_worker")


class DeliveryWorker:
    def __init__(
        self, database: Database, *, clock: Clock, senders: dict[str, Sender],
        rules: DeliveryRules = DeliveryRules(), batch: int = 200, poll_seconds: float = 2.0,
    ) -> None:  # fmt: skip
        self.database = database
        self.clock = clock
        self.senders = senders
        self.rules = rules
        self.batch = batch
        self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        return await _drain(self.database, self.batch, lambda session: deliveries.deliver_due(
            session, senders=self.senders, now=self.clock(), limit=self.batch,
            rules=self.rules))  # fmt: skip

    async def run(self) -> None:
        await _forever(self.run_once, self.poll_seconds, "delivery_worker")


async def _drain(database: Database, batch: int, work: Callable[..., Awaitable[int]]) -> int:
    done = 0
    while True:
        async with database.transaction() as session:
            claimed = await work(session)
        done += claimed
        if claimed < batch:
            return done


async def _forever(run_once: Callable[[], Awaitable[int]], poll_seconds: float, name: str):
    failures = 0
    while True:
        try:
            if done := await run_once():
                log.info(f"{name}_pass", count=done)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as error:
            failures += 1
            log.warning(f"{name}_failed", error=repr(error))
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
            continue
        await asyncio.sleep(poll_seconds)
