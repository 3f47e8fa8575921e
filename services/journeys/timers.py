"""The workers: the step worker (due instances and date triggers) and the delivery worker.

Each pass claims its rows with `FOR UPDATE SKIP LOCKED` in its own transaction, so any
number of replicas can run them, a restart loses nothing (timers are `due_at` columns), and
no step runs twice. The clock is injected, so tests move time instead of waiting for it.
"""

from services.journeys.service import deliveries, engine, entry
from services.journeys.service.deliveries import DeliveryRules, Sender
from shared.database import Database
from shared.workers import Clock, Worker, drain


class StepWorker(Worker):
    done_event = "step_worker_pass"
    failed_event = "step_worker_failed"
    batch = 500
    poll_seconds = 2.0

    async def run_once(self) -> int:
        """Enters today's date-triggered owners, then runs every due instance."""
        async with self.database.transaction() as session:
            await entry.schedule_dates(session, now=self.clock())
        return await drain(self.database, self.batch, lambda session: engine.run_due(
            session, now=self.clock(), limit=self.batch))  # fmt: skip


class DeliveryWorker(Worker):
    done_event = "delivery_worker_pass"
    failed_event = "delivery_worker_failed"

    def __init__(
        self, database: Database, *, clock: Clock, senders: dict[str, Sender],
        rules: DeliveryRules = DeliveryRules(), batch: int = 200, poll_seconds: float = 2.0,
    ) -> None:  # fmt: skip
        super().__init__(database, clock=clock, batch=batch, poll_seconds=poll_seconds)
        self.senders = senders
        self.rules = rules

    async def run_once(self) -> int:
        return await drain(self.database, self.batch, lambda session: deliveries.deliver_due(
            session, senders=self.senders, now=self.clock(), limit=self.batch,
            rules=self.rules))  # fmt: skip
