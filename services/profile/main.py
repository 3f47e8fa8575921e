"""Composition root of the profile service."""

from fastapi import FastAPI

from services.profile.config import SERVICE, ProfileSettings
from services.profile.routes import router
from shared.runtime import build_service_app


def create_app(settings: ProfileSettings | None = None) -> FastAPI:
    return build_service_app(
        service=SERVICE,
        settings=settings or ProfileSettings(),
        routers=[router],
        title="CEM profile",
    )
