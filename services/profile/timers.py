"""The segment timer: recomputes segments whose `recompute_at` has passed (stored in
PostgreSQL, claimed with `FOR UPDATE SKIP LOCKED`, so replicas share it and restarts lose
nothing). The clock is injected, so tests move time instead of waiting for it."""

from services.profile.service.segments import recompute_due
from shared.database import Database
from shared.workers import Clock, Worker, drain


class SegmentTimer(Worker):
    done_event = "segments_recomputed"
    failed_event = "segment_timer_failed"

    def __init__(
        self, database: Database, *, clock: Clock, batch: int = 10, poll_seconds: float = 60.0
    ) -> None:
        self.database = database
        self.clock = clock
        self.batch = batch
        self.poll_seconds = poll_seconds

    async def run_once(self) -> int:
        return await drain(
            self.database,
            self.batch,
            lambda session: recompute_due(session, now=self.clock(), limit=self.batch),
        )
