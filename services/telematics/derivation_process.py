"""The derivation worker in a process of its own, for a service run as everything in one
(`CEM_ROLE=all`, as `cem up` runs it): deriving trips is CPU work in Python, and beside the
API in one event loop it held up ingestion's requests. The API process starts this one,
starts it again should it end, and stops it when it stops; this one also ends when its parent
is gone. In Kubernetes the worker Deployment (`CEM_ROLE=worker`) derives in-process instead.

    CEM_DERIVATION_DATABASE_URL=... python -m services.telematics.derivation_process
"""

import asyncio
import os
import signal
import sys
from contextlib import suppress

import structlog
import uvloop

from services.telematics.config import TelematicsSettings
from services.telematics.models import utc_now
from services.telematics.workers import DerivationWorker
from shared.database import Database
from shared.memory import settle_after_start
from shared.observability import configure_logging

log = structlog.get_logger("telematics_derivation_process")

STOP_SECONDS = 5.0
PARENT_CHECK_SECONDS = 1.0
# The database as the parent connects to it (its role, its row-level security).
DATABASE_VARIABLE = "CEM_DERIVATION_DATABASE_URL"


def child_environment(database: Database) -> dict[str, str]:
    """The parent's environment (so the same settings), and the parent's database."""
    url = database.engine.url.render_as_string(hide_password=False)
    return {**os.environ, DATABASE_VARIABLE: url}


async def run_in_child(database: Database) -> None:
    """A service worker (see `shared.runtime`): runs the child until it ends, and stops it
    when cancelled."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.telematics.derivation_process",
        env=child_environment(database),
    )
    try:
        code = await child.wait()
        log.warning("derivation_process_ended", code=code)
    finally:
        if child.returncode is None:
            child.terminate()
            try:
                await asyncio.wait_for(child.wait(), STOP_SECONDS)
            except TimeoutError:
                child.kill()


async def _derive_until_stopped(settings: TelematicsSettings) -> None:
    database = Database(os.environ[DATABASE_VARIABLE], pool_size=2)
    parent = os.getppid()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stopping.set)
    worker = asyncio.create_task(DerivationWorker(database, settings, utc_now).run())
    settle_after_start()
    try:
        while not stopping.is_set() and os.getppid() == parent and not worker.done():
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), PARENT_CHECK_SECONDS)
    finally:
        worker.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await worker
        await database.dispose()


def main() -> None:
    settings = TelematicsSettings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    uvloop.run(_derive_until_stopped(settings))  # the services' loop too (cli/launcher.py)


if __name__ == "__main__":
    main()
