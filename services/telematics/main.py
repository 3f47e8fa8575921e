"""Composition root of the telematics service."""

from fastapi import FastAPI

from services.telematics.config import SERVICE, TelematicsSettings
from services.telematics.handlers import subscriptions
from services.telematics.models import utc_now
from services.telematics.routes import router
from services.telematics.workers import (
    Clock,
    DerivationWorker,
    QualityWorker,
    RetentionWorker,
)
from shared.database import Database
from shared.runtime import build_service_app


def create_app(settings: TelematicsSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or TelematicsSettings()

    def worker(kind):
        async def run(database: Database) -> None:
            await kind(database, settings, clock).run()

        return run

    app = build_service_app(
        service=SERVICE,
        settings=settings,
        routers=[router],
        subscriptions=subscriptions(clock),
        workers=[worker(DerivationWorker), worker(QualityWorker), worker(RetentionWorker)],
        title="CEM telematics",
    )
    app.state.settings = settings
    app.state.clock = clock
    return app
