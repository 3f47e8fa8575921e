"""The invitation worker: issues invitations whose trigger delay has passed.

Each pass claims due invitations with `FOR UPDATE SKIP LOCKED` in its own transaction, so
any number of replicas can run it, a restart loses nothing, and none is issued twice. The
clock is injected, so tests move time instead of waiting for it.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog

from services.feedback.config import FeedbackSettings
from services.feedback.service.invitations import issue_due
from shared.database import Database

log = structlog.get_logger("invitation_worker")

Clock = Callable[[], datetime]


class InvitationWorker:
    def __init__(self, database: Database, *, clock: Clock, settings: FeedbackSettings) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings

    async def run_once(self) -> int:
        """Issues every invitation due now; returns how many."""
        issued = 0
        while True:
            async with self.database.transaction() as session:
                batch = await issue_due(
                    session,
                    now=self.clock(),
                    limit=self.settings.invitation_batch,
                    settings=self.settings,
                )
            issued += batch
            if batch < self.settings.invitation_batch:
                return issued

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                if issued := await self.run_once():
                    log.info("invitations_issued", count=issued)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                log.warning("invitation_worker_failed", error=repr(error))
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            await asyncio.sleep(self.settings.invitation_poll_seconds)
