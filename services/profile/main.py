"""Composition root of the profile service."""

from fastapi import FastAPI

from services.profile.config import SERVICE, ProfileSettings
from services.profile.handlers import subscriptions
from services.profile.models import utc_now
from services.profile.peers import PeerExports
from services.profile.routes import router
from services.profile.timers import SegmentTimer
from services.profile.vault import Vault
from shared.database import Database
from shared.runtime import build_service_app
from shared.workers import Clock


def create_app(settings: ProfileSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or ProfileSettings()

    async def segment_timer(database: Database) -> None:
        await SegmentTimer(database, clock=clock, poll_seconds=settings.segment_poll_seconds).run()

    app = build_service_app(
        service=SERVICE,
        settings=settings,
        routers=[router],
        subscriptions=subscriptions(clock),
        workers=[segment_timer],
        title="CEM profile",
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.vault = Vault.from_secrets(
        settings.owner_master_key.get_secret_value(),
        settings.contact_hash_pepper.get_secret_value(),
    )
    app.state.peers = PeerExports(settings.peer_urls, timeout_seconds=settings.peer_timeout_seconds)
    return app
