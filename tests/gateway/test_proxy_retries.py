"""The gateway sends a request again only when that cannot do it twice (gateway/proxy.py)."""

import asyncio
import json

import pytest

from cli.embedded import free_port
from shared.auth import CALLER_HEADER
from shared.runtime import DRAINING_HEADER
from tests.gateway.support import token

OWNER = {"Authorization": f"Bearer {token()}"}
KEYED = {**OWNER, "Idempotency-Key": "order-2f1c"}
STREAMED = b"x" * (128 * 1024)  # over the size the gateway buffers: streamed, so sent once


class ScriptedService:
    """A real HTTP/1.1 server that treats each request as its script says: `drop` reads it
    and closes the connection unanswered (as a crash after the request arrived), `drain`
    answers the 503 of a service shutting down, anything else (and an empty script) 200."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.received: list[str] = []
        self.callers: list[str | None] = []  # the caller token each request carried
        self.port = free_port()
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                await _read_body(reader, head)
                self.received.append(head.split(" ", 1)[0])
                self.callers.append(_header(head, CALLER_HEADER))
                action = self.script.pop(0) if self.script else "ok"
                if action == "drop":
                    writer.transport.abort()
                    return
                writer.write(_answer(action, len(self.received)))
                await writer.drain()
                if action == "drain":
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


async def _read_body(reader: asyncio.StreamReader, head: str) -> None:
    lines = head.lower().split("\r\n")
    if "transfer-encoding: chunked" in lines:
        while size := int((await reader.readline()).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readline()
        return
    for line in lines:
        if line.startswith("content-length:"):
            await reader.readexactly(int(line.split(":", 1)[1]))


def _header(head: str, name: str) -> str | None:
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _answer(action: str, attempt: int) -> bytes:
    if action == "drain":
        body = b'{"code":"service_draining"}'
        status, extra = "503 Service Unavailable", f"{DRAINING_HEADER}: 1\r\nConnection: close\r\n"
    else:
        body = json.dumps({"attempt": attempt}).encode()
        status, extra = "200 OK", ""
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


@pytest.fixture
async def scripted():
    service = ScriptedService()
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def gateway_to(make_gateway, scripted):
    return await make_gateway(
        upstreams={"scripted": scripted.url, "late": f"http://127.0.0.1:{free_port()}"},
        upstream_retry_seconds=5.0,
    )


@pytest.mark.parametrize(
    ("method", "headers"),
    [("GET", OWNER), ("PUT", OWNER), ("DELETE", OWNER), ("POST", KEYED)],
    ids=["GET", "PUT", "DELETE", "POST with Idempotency-Key"],
)
async def test_a_repeatable_request_is_sent_again_when_the_connection_breaks(
    gateway_to, scripted, method, headers
):
    scripted.script = ["drop", "drop"]
    response = await gateway_to.http.request(method, "/v1/scripted/x", headers=headers, json={})
    assert response.status_code == 200 and response.json() == {"attempt": 3}


async def test_a_post_that_may_have_arrived_is_not_sent_again(gateway_to, scripted):
    scripted.script = ["drop"]
    response = await gateway_to.http.post("/v1/scripted/orders", headers=OWNER, json={})
    assert response.status_code == 503 and response.json()["code"] == "upstream_unavailable"
    assert scripted.received == ["POST"]


async def test_any_request_refused_by_a_draining_service_is_sent_again(gateway_to, scripted):
    scripted.script = ["drain", "drain"]
    response = await gateway_to.http.post("/v1/scripted/orders", headers=OWNER, json={"a": 1})
    assert response.status_code == 200 and response.json() == {"attempt": 3}
    assert scripted.received == ["POST", "POST", "POST"]


async def test_a_held_request_is_sent_again_with_a_fresh_caller_token(
    gateway_to, scripted, monkeypatch
):
    """The internal token lives a minute; a request held through a restart may outlive it."""
    assert (await gateway_to.http.get("/v1/scripted/x", headers=OWNER)).status_code == 200
    monkeypatch.setattr(gateway_to.app.authenticator, "sign", lambda caller: "signed-again")
    scripted.script = ["drain"]
    response = await gateway_to.http.get("/v1/scripted/x", headers=OWNER)
    assert response.status_code == 200
    cached, held, again = scripted.callers
    assert held == cached != "signed-again" and again == "signed-again"


async def test_a_streamed_body_is_never_sent_twice(gateway_to, scripted):
    scripted.script = ["drain"]
    # A key of its own: the gateway would answer a key another test used for another body 422.
    upload = {**OWNER, "Idempotency-Key": "upload-7c0d"}
    response = await gateway_to.http.post("/v1/scripted/files", headers=upload, content=STREAMED)
    assert response.status_code == 503
    assert scripted.received == ["POST"]


async def test_a_service_that_is_starting_gets_the_request_once_it_listens(gateway_to):
    late = ScriptedService()
    late.port = int(gateway_to.settings.upstreams["late"].rsplit(":", 1)[1])
    request = asyncio.create_task(gateway_to.http.post("/v1/late/orders", headers=OWNER, json={}))
    await asyncio.sleep(0.5)  # refused meanwhile: never sent, so safe even for a plain POST
    await late.start()
    try:
        response = await request
    finally:
        await late.stop()
    assert response.status_code == 200 and late.received == ["POST"]
