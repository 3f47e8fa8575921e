"""The SLA worker: fires due SLA timers (stored in PostgreSQL) as breaches and escalations.

Each pass claims due clocks with `FOR UPDATE SKIP LOCKED` in its own transaction, so any
number of replicas can run it, a restart loses nothing, and no breach fires twice. The
clock is injected, so tests move time instead of waiting for it.
"""

from services.tickets.service import sla
from shared.workers import Worker, drain


class SlaWorker(Worker):
    done_event = "sla_timers_fired"
    failed_event = "sla_worker_failed"
    batch = 100
    poll_seconds = 5.0

    async def run_once(self) -> int:
        """Fires every timer due now; returns how many fired."""
        return await drain(
            self.database,
            self.batch,
            lambda session: sla.fire_due(session, now=self.clock(), limit=self.batch),
        )
