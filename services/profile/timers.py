"""The segment timer: recomputes segments whose `recompute_at` has passed (stored in
PostgreSQL, claimed with `FOR UPDATE SKIP LOCKED`, so replicas share it and restarts lose
nothing). The clock is injected, so tests move time instead of waiting for it."""

from services.profile.service.segments import recompute_due
from shared.workers import Worker, drain


class SegmentTimer(Worker):
    done_event = "segments_recomputed"
    failed_event = "segment_timer_failed"
    batch = 10
    poll_seconds = 60.0

    async def run_once(self) -> int:
        return await drain(
            self.database,
            self.batch,
            lambda session: recompute_due(session, now=self.clock(), limit=self.batch),
        )
