"""Composition root of the telematics service."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.telematics.config import SERVICE, TelematicsSettings
from services.telematics.derivation_process import run_in_child
from services.telematics.handlers import subscriptions
from services.telematics.models import utc_now
from services.telematics.routes import router
from services.telematics.service.ingestion import Batches
from services.telematics.signal_store import SignalWriter
from services.telematics.workers import DerivationWorker, QualityWorker, RetentionWorker
from shared.config import Role
from shared.database import Database
from shared.runtime import build_service_app
from shared.workers import Clock


def create_app(settings: TelematicsSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or TelematicsSettings()

    def worker(kind):
        async def run(database: Database) -> None:
            await kind(database, settings, clock).run()

        return run

    # Everything in one process: deriving runs in child processes, off the API's event loop.
    children = settings.derivation_processes if settings.role is Role.ALL else 0
    app = build_service_app(
        service=SERVICE,
        settings=settings,
        routers=[router],
        subscriptions=subscriptions(clock),
        workers=[
            *([run_in_child] * children or [worker(DerivationWorker)]),
            worker(QualityWorker),
            worker(RetentionWorker),
        ],
        title="CEM telematics",
    )
    app.state.settings = settings
    app.state.clock = clock
    _open_signal_writer(app, settings)
    return app


def _open_signal_writer(app: FastAPI, settings: TelematicsSettings) -> None:
    """Ingestion's own pool lives inside the service's lifespan and closes first."""
    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app):
            writer = SignalWriter(
                app.state.database.engine.url, connections=settings.ingest_connections
            )
            app.state.signal_batches = Batches(writer)
            try:
                yield
            finally:
                await writer.close()

    app.router.lifespan_context = lifespan
