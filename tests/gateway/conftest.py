"""The gateway in-process, on its own migrated database, in front of a real echo upstream."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from cli.embedded import free_port
from gateway import service
from gateway.config import MIGRATIONS_DIR, GatewaySettings
from gateway.main import create_app
from gateway.tokens import mint_development_token
from shared.auth import CallerKind, StaffRole
from shared.contracts.profile import DealerRegistered
from shared.migrations import upgrade
from tests.helpers import eventually, running


async def _echo(request: Request) -> JSONResponse | StreamingResponse:
    """Answers with what it received, so tests see exactly what the gateway forwards;
    `?chunks=n` answers n chunks of `CHUNK` instead, streamed without a length."""
    if request.query_params.get("sleep"):
        await asyncio.sleep(float(request.query_params["sleep"]))
    body = await request.body()
    if request.query_params.get("chunks"):
        return StreamingResponse(_chunks(int(request.query_params["chunks"])))
    return JSONResponse(
        {
            "path": request.url.path,
            "query": str(request.query_params),
            "headers": dict(request.headers),
            "body_length": len(body),
            "client_port": request.client.port if request.client else None,
        }
    )


CHUNK = bytes(range(256)) * 64  # 16 KiB


async def _chunks(count: int):
    for _ in range(count):
        yield CHUNK
        await asyncio.sleep(0)


# A schema named like one of the gateway's, with another shape: the merge must keep both.
ECHO_OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "echo", "version": "1"},
    "paths": {
        "/v1/echo/things": {
            "get": {
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ApiKeyRead"}
                            }
                        }
                    }
                }
            }
        }
    },
    "components": {"schemas": {"ApiKeyRead": {"type": "object", "title": "EchoThing"}}},
}


async def _openapi(request: Request) -> JSONResponse:
    return JSONResponse(ECHO_OPENAPI)


@pytest.fixture(scope="session")
async def echo_url() -> AsyncIterator[str]:
    app = Starlette(
        routes=[
            Route("/openapi.json", _openapi),
            Route("/{path:path}", _echo, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, within_seconds=10)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def migrated(infrastructure) -> None:
    await asyncio.to_thread(upgrade, "gateway", MIGRATIONS_DIR, infrastructure.settings())


def gateway_settings(infrastructure, echo_url: str, **overrides) -> GatewaySettings:
    values = {
        **infrastructure.settings().model_dump(),
        "upstreams": {"echo": echo_url, "down": f"http://127.0.0.1:{free_port()}"},
        "upstream_timeout_seconds": 1.0,
        # `down` never comes back: its requests are retried this long, then answered 503.
        "upstream_retry_seconds": 0.3,
        **overrides,
    }
    return GatewaySettings(**values)


class RunningGateway:
    def __init__(self, app, settings: GatewaySettings) -> None:
        self.app = app
        self.settings = settings
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")

    def bearer(self, kind: CallerKind, subject: str, *roles: StaffRole) -> dict[str, str]:
        token = mint_development_token(self.settings, kind=kind, subject=subject, roles=roles)
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.bearer(CallerKind.STAFF, "admin@test", StaffRole.ADMIN)

    async def known_dealer(self) -> uuid.UUID:
        """A dealer as the gateway learns it from profile's event."""
        dealer_id = uuid.uuid4()
        event = DealerRegistered(
            dealer_id=dealer_id,
            code=dealer_id.hex[:8],
            name="Test Motors",
            city="Shanghai",
            region="East",
        )
        async with self.app.inner.state.database.transaction() as session:
            await service.record_dealer(session, event)
        return dealer_id

    async def issue_key(self, dealer_id: uuid.UUID) -> dict:
        response = await self.http.post(f"/v1/gateway/dealers/{dealer_id}/keys", headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
async def make_gateway(infrastructure, echo_url, migrated):
    """Starts gateways (several replicas may share one database) with chosen settings."""
    async with AsyncExitStack() as stack:

        async def make(**overrides) -> RunningGateway:
            settings = gateway_settings(infrastructure, echo_url, **overrides)
            app = create_app(settings)
            await stack.enter_async_context(running(app))
            return RunningGateway(app, settings)

        yield make


@pytest.fixture
async def gateway(make_gateway) -> RunningGateway:
    return await make_gateway()
