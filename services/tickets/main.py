"""Composition root of the tickets service."""

from fastapi import FastAPI

from services.tickets.config import SERVICE, TicketsSettings
from services.tickets.handlers import subscriptions
from services.tickets.models import utc_now
from services.tickets.routes import router
from services.tickets.timers import SlaWorker
from shared.database import Database
from shared.runtime import build_service_app
from shared.workers import Clock


def create_app(settings: TicketsSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or TicketsSettings()

    async def sla_worker(database: Database) -> None:
        await SlaWorker(
            database, clock=clock, batch=settings.sla_batch, poll_seconds=settings.sla_poll_seconds
        ).run()

    app = build_service_app(
        service=SERVICE,
        settings=settings,
        routers=[router],
        subscriptions=subscriptions(settings, clock),
        workers=[sla_worker],
        title="CEM tickets",
    )
    app.state.settings = settings
    app.state.clock = clock
    return app
