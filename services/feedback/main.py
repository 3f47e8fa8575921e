"""Composition root of the feedback service."""

from fastapi import FastAPI

from services.feedback.config import SERVICE, FeedbackSettings
from services.feedback.handlers import subscriptions
from services.feedback.models import utc_now
from services.feedback.routes import public_router, router
from services.feedback.timers import InvitationWorker
from shared.database import Database
from shared.runtime import build_service_app
from shared.workers import Clock


def create_app(settings: FeedbackSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or FeedbackSettings()

    async def invitation_worker(database: Database) -> None:
        await InvitationWorker(database, clock=clock, settings=settings).run()

    app = build_service_app(
        service=SERVICE,
        settings=settings,
        routers=[router, public_router],
        subscriptions=subscriptions(settings, clock),
        workers=[invitation_worker],
        title="CEM feedback",
    )
    app.state.settings = settings
    app.state.clock = clock
    return app
