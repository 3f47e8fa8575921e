"""Through the gateway: a keyed POST whose connection broke after the service had committed it
is sent again (gateway/proxy.py), and the service answers the resend with its first answer
instead of creating it a second time (shared/idempotency/claims.py)."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from cli.embedded import free_port
from shared.auth import CallerKind
from tests.shared.support import COMPLAINT, keyed_tickets_app, serving


class BreakingProxy:
    """A TCP hop in front of a real service: each request goes on whole and its answer comes
    back, except that the first `break_answers` answers are read and dropped, the gateway's
    connection closed instead (the service has committed by then)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.break_answers = 0
        self.forwarded = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> "BreakingProxy":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                answer = await self._pass_on(await _message(reader))
                self.forwarded += 1
                if self.break_answers:
                    self.break_answers -= 1
                    writer.transport.abort()
                    return
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def _pass_on(self, request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.write(request)
            await writer.drain()
            return await _message(reader)
        finally:
            writer.close()


async def _message(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 request or response, sized by its Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.decode("latin-1").lower().split("\r\n"):
        if line.startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    return head + await reader.readexactly(length)


@pytest.fixture(scope="module")
async def tickets_port(infrastructure) -> AsyncIterator[int]:
    async with serving(await keyed_tickets_app(infrastructure)) as port:
        yield port


async def test_a_keyed_post_resent_after_a_broken_connection_creates_once(
    make_gateway, tickets_port
):
    async with BreakingProxy(tickets_port) as proxy:
        gateway = await make_gateway(
            upstreams={"tickets": proxy.url},
            upstream_timeout_seconds=30.0,
            upstream_retry_seconds=5.0,
        )
        owner = gateway.bearer(CallerKind.OWNER, str(uuid.uuid4()))
        keyed = {**owner, "Idempotency-Key": f"case-{uuid.uuid4().hex[:8]}"}
        proxy.break_answers = 1

        created = await gateway.http.post("/v1/tickets/tickets", headers=keyed, json=COMPLAINT)

        assert created.status_code == 201, created.text
        assert proxy.forwarded == 2  # the service had it twice: once applied, once answered
        listing = await gateway.http.get("/v1/tickets/tickets", headers=owner)
        assert [item["id"] for item in listing.json()["items"]] == [created.json()["id"]]
        # The gateway keeps that answer as it keeps any: a repeat never reaches the service.
        forwarded = proxy.forwarded
        again = await gateway.http.post("/v1/tickets/tickets", headers=keyed, json=COMPLAINT)
        assert again.status_code == 201 and again.json() == created.json()
        assert again.headers["idempotent-replayed"] == "true" and proxy.forwarded == forwarded
