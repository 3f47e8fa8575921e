"""Composition root of the journeys service."""

from datetime import timedelta

from fastapi import FastAPI

from services.journeys.config import SERVICE, JourneysSettings
from services.journeys.handlers import subscriptions
from services.journeys.models import utc_now
from services.journeys.routes import router
from services.journeys.senders import development_senders
from services.journeys.service.deliveries import DeliveryRules, Sender
from services.journeys.timers import DeliveryWorker, StepWorker
from shared.database import Database
from shared.runtime import build_service_app
from shared.workers import Clock


def create_app(
    settings: JourneysSettings | None = None,
    *,
    clock: Clock = utc_now,
    senders: dict[str, Sender] | None = None,
) -> FastAPI:
    """`senders` are the outside channels' adapters; the development ones by default."""
    settings = settings or JourneysSettings()
    senders = senders if senders is not None else development_senders()
    rules = DeliveryRules(
        moving_retry=timedelta(minutes=settings.moving_retry_minutes),
        motion_stale=timedelta(hours=settings.motion_stale_hours),
    )

    async def step_worker(database: Database) -> None:
        await StepWorker(database, clock=clock, batch=settings.step_batch,
                         poll_seconds=settings.step_poll_seconds).run()  # fmt: skip

    async def delivery_worker(database: Database) -> None:
        await DeliveryWorker(database, clock=clock, senders=senders, rules=rules,
                             batch=settings.delivery_batch,
                             poll_seconds=settings.delivery_poll_seconds).run()  # fmt: skip

    app = build_service_app(
        service=SERVICE,
        settings=settings,
        routers=[router],
        subscriptions=subscriptions(clock),
        workers=[step_worker, delivery_worker],
        title="CEM journeys",
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.senders = senders
    app.state.delivery_rules = rules
    return app
