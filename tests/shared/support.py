"""A real service for the idempotency-key tests: tickets, on databases of its own."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from cli.embedded import free_port
from services.tickets.config import MIGRATIONS_DIR, TicketsSettings
from services.tickets.main import create_app
from shared.auth import Caller, CallerKind
from shared.config import Role
from shared.migrations import upgrade
from tests.helpers import ServiceClient, eventually

COMPLAINT = {"kind": "complaint", "subject": "Smart key fails", "description": "Again."}


async def keyed_tickets_app(infrastructure) -> FastAPI:
    """Tickets answering requests only (no consumer competes with the tickets tests' for
    events), its database apart from theirs (their counts stay theirs)."""
    settings = TicketsSettings(
        **{
            **infrastructure.settings().model_dump(),
            "database_prefix": f"{infrastructure.database_prefix}_keys",
            "role": Role.API,
            "log_level": "WARNING",
        }
    )
    await asyncio.to_thread(upgrade, "tickets", MIGRATIONS_DIR, settings)
    return create_app(settings)


def new_owner() -> Caller:
    owner_id = uuid.uuid4()
    return Caller(kind=CallerKind.OWNER, subject=str(owner_id), owner_id=owner_id)


class TicketsClient(ServiceClient):
    service = "tickets"

    async def open(self, key: str | None, body: dict = COMPLAINT):
        headers = {"Idempotency-Key": key} if key else {}
        return await self.post("/tickets", json=body, headers=headers)

    async def ticket_ids(self) -> list[str]:
        response = await self.get("/tickets")
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]


@asynccontextmanager
async def serving(app) -> AsyncIterator[int]:
    """Serves `app` over HTTP on a free port (lifespan included) and yields the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await eventually(started, within_seconds=30)
        yield port
    finally:
        server.should_exit = True
        await task
