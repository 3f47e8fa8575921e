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
        self.database = database
        self.clock = clock
        self.settings = settings
        self.poll_seconds = settings.invitation_poll_seconds

    async def run_once(self) -> int:
        """Issues every invitation due now; returns how many."""
        batch = self.settings.invitation_batch
        return await drain(
            self.database,
            batch,
            lambda session: issue_due(
                session, now=self.clock(), limit=batch, settings=self.settings
            ),
        )
