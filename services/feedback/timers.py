"""The invitation worker: issues invitations whose trigger delay has passed.

Each pass claims due invitations with `FOR UPDATE SKIP LOCKED` in its own transaction, so
any number of replicas can run it, a restart loses nothing, and none is issued twice. The
clock is injected, so tests move time instead of waiting for it.
"""

from services.feedback.config import FeedbackSettings
from services.feedback.service.invitations import issue_due
from shared.database import Database
from shared.workers import Clock, Worker, drain


class InvitationWorker(Worker):
    done_event = "invitations_issued"
    failed_event = "invitation_worker_failed"

    def __init__(self, database: Database, *, clock: Clock, settings: FeedbackSettings) -> None:
        super().__init__(
            database,
            clock=clock,
            batch=settings.invitation_batch,
            poll_seconds=settings.invitation_poll_seconds,
        )
        self.settings = settings

    async def run_once(self) -> int:
        """Issues every invitation due now; returns how many."""
        return await drain(
            self.database,
            self.batch,
            lambda session: issue_due(
                session, now=self.clock(), limit=self.batch, settings=self.settings
            ),
        )
