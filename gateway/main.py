"""Composition root of the gateway."""

from pathlib import Path

from starlette.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from gateway import auth, idempotency
from gateway.config import GatewaySettings
from gateway.edge import GatewayEdge
from gateway.handlers import SUBSCRIPTIONS
from gateway.openapi import MergedOpenApi, docs_router
from gateway.proxy import Upstreams
from gateway.routes import router
from shared.runtime import build_service_app

DASHBOARD_DIR = Path(__file__).parent / "dashboard"


def create_app(settings: GatewaySettings | None = None) -> ASGIApp:
    settings = settings or GatewaySettings()
    authenticator = auth.Authenticator(settings)
    inner = build_service_app(
        service="gateway",
        settings=settings,
        routers=[router],
        root_routers=[docs_router()],
        own_docs=False,
        subscriptions=SUBSCRIPTIONS,
        produces_events=False,
        workers=[*auth.workers(authenticator, settings), idempotency.purge_expired],
        idempotency_keys=False,  # its table of that name is the edge's (gateway/idempotency.py)
        title="CEM gateway",
    )
    authenticator.bind(inner.state.database)
    inner.state.api_key_pepper = settings.api_key_pepper.get_secret_value()
    inner.state.authenticator = authenticator
    inner.state.merged_openapi = MergedOpenApi(inner, settings.upstreams)
    # Static files only: the dashboard signs in and reads through the public API like any client.
    inner.mount("/dashboard", StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")
    upstreams = Upstreams(
        settings.upstreams,
        connections=settings.upstream_connections,
        timeout_seconds=settings.upstream_timeout_seconds,
        retry_seconds=settings.upstream_retry_seconds,
    )
    edge: ASGIApp = GatewayEdge(
        inner,
        settings=settings,
        authenticator=authenticator,
        upstreams=upstreams,
        idempotency=idempotency.Idempotency(inner.state.database),
    )
    if settings.cors_origins:
        edge = CORSMiddleware(
            edge,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "X-Request-Id",
                "Idempotency-Key",
            ],
            expose_headers=["X-Request-Id", "Retry-After", "Idempotent-Replayed"],
        )
    return edge
