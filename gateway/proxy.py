"""Forwards a request to its service over pooled keep-alive connections (gateway/upstream.py)
and streams the answer.

A service restarting (a rollout, a SIGTERM) must not show as 5xx, so a request is sent
again, with a short back-off until `retry_seconds` after the first failure, when the
attempt certainly did nothing: the connection was refused, or the service answered the
503 it gives while draining (`x-cem-draining`). A connection that broke after the request
went out may have reached the service, so that one is retried only for a request a repeat
cannot harm: GET, HEAD, OPTIONS, PUT, DELETE, or one carrying an `Idempotency-Key` (the
service claims the key in the transaction of its effect, `shared.idempotency.claims`, and
answers a repeat of what it applied with its first answer). A body streamed on (over
`BUFFER_BODIES_UP_TO`) is gone once sent and is never retried. Each new attempt takes a
new connection, which behind a Kubernetes Service may reach another pod.
"""

import asyncio
import functools
import re
import time
from collections.abc import AsyncIterator, Callable

from prometheus_client import Counter
from starlette.types import Message, Receive, Send

from gateway.upstream import Broken, Connection, Refused, ServicePool
from shared.auth import CALLER_HEADER
from shared.runtime import DRAINING_HEADER

# Headers that describe one hop, not the message; never forwarded either way.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    }
)
# Idle upstream connections are dropped before uvicorn's own 5 s keep-alive would close
# them: reusing one the server is closing fails the request (seen as 503s under load).
KEEPALIVE_SECONDS = 4.0
CONNECT_SECONDS = 5.0
# Set by the gateway itself on every response (uvicorn adds its own date and server).
REPLACED_IN_RESPONSE = (HOP_BY_HOP - {b"content-length"}) | {b"x-request-id", b"date", b"server"}
BUFFER_BODIES_UP_TO = 64 * 1024
# Requests of other methods say their body's length even when it is empty (RFC 9110 8.6).
BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# A repeat leaves the same state as one request (RFC 9110 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
IDEMPOTENCY_KEY = b"idempotency-key"
CALLER_HEADER_BYTES = CALLER_HEADER.encode()
DRAINING_HEADER_BYTES = DRAINING_HEADER.lower().encode()
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 0.5

RETRIES = Counter(
    "cem_gateway_upstream_retries_total",
    "Requests sent to a service again after a refused connection, a broken one or a drain",
    ["service", "reason"],
)


@functools.cache
def _retried(service: str, reason: str) -> Counter:
    return RETRIES.labels(service, reason)


class BodyTooLarge(Exception):
    pass


class NulInBody(Exception):
    """The body spells a NUL character (`\\u0000`), which no PostgreSQL text or jsonb holds."""


# An unescaped `\u0000`: preceded by an even number of backslashes (`\\u0000` is text).
NUL_ESCAPE = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")
NUL_WINDOW_BYTES = 64  # carried across chunks so an escape split between two is still seen


class UpstreamUnavailable(Exception):
    pass


class UpstreamTimeout(Exception):
    pass


class Retry:
    """The back-off of one request, started at its first failed attempt."""

    def __init__(self, retry_seconds: float) -> None:
        self.deadline = time.monotonic() + retry_seconds
        self.backoff = FIRST_BACKOFF_SECONDS

    async def wait(self) -> bool:
        """Sleeps before the next attempt; False once that would pass the deadline."""
        if time.monotonic() + self.backoff > self.deadline:
            return False
        await asyncio.sleep(self.backoff)
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)
        return True


class Upstreams:
    """One pool of keep-alive connections per service, opened on first use."""

    def __init__(
        self,
        urls: dict[str, str],
        *,
        connections: int,
        timeout_seconds: float,
        retry_seconds: float,
    ) -> None:
        self.urls = urls
        self.retry_seconds = retry_seconds
        self._connections = connections
        self._timeout_seconds = timeout_seconds
        self._pools: dict[str, ServicePool] = {}

    def pool(self, service: str) -> ServicePool:
        pool = self._pools.get(service)
        if pool is None:
            pool = self._pools[service] = ServicePool(
                self.urls[service],
                limit=self._connections,
                connect_seconds=CONNECT_SECONDS,
                keepalive_seconds=KEEPALIVE_SECONDS,
            )
        return pool

    async def close(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()

    async def forward(
        self,
        service: str,
        *,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        receive: Receive,
        send: Send,
        content_length: int | None,
        max_body_bytes: int,
        request_id: bytes,
        resign: Callable[[], str] | None = None,
    ) -> int:
        """Sends the request on and the response back; returns the response status.
        `resign` gives a fresh caller token for a retry: a held request may outlive one."""
        body = await _request_body(receive, content_length, max_body_bytes)
        outgoing = [(name, value) for name, value in headers if name not in HOP_BY_HOP]
        retry: Retry | None = None
        while True:
            try:
                return await self._attempt(
                    service, method, target, outgoing, body, send, request_id
                )
            except _Retryable as failure:
                if not _may_repeat(failure, method, headers, body):
                    raise failure.unavailable from failure.__cause__
                retry = retry or Retry(self.retry_seconds)
                if not await retry.wait():
                    raise failure.unavailable from failure.__cause__
                _retried(service, failure.reason).inc()
                if resign is not None:
                    token = resign().encode()
                    outgoing = [
                        (name, token if name == CALLER_HEADER_BYTES else value)
                        for name, value in outgoing
                    ]

    async def _attempt(self, service, method, target, headers, body, send, request_id) -> int:
        pool = self.pool(service)
        head = _request_head(method, target, pool.host_header, headers, body)
        try:
            async with asyncio.timeout(self._timeout_seconds):
                connection = await pool.acquire()
                try:
                    return await _exchange(
                        connection, service, method, head, body, send, request_id
                    )
                finally:
                    pool.release(connection)
        except TimeoutError as error:
            raise UpstreamTimeout(service) from error
        except Refused as error:
            raise _Retryable("refused", UpstreamUnavailable(service)) from error


async def _exchange(
    connection: Connection, service, method, head, body, send: Send, request_id: bytes
) -> int:
    try:
        await connection.send(method, head, body)
    except Broken as error:
        raise _Retryable("broken", UpstreamUnavailable(service)) from error
    status = connection.status
    headers = [(n, v) for n, v in connection.headers if n not in REPLACED_IN_RESPONSE]
    if status == 503 and any(name == DRAINING_HEADER_BYTES for name, _ in headers):
        raise _Retryable("draining", UpstreamUnavailable(service))
    headers.append((b"x-request-id", request_id))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    try:
        while True:
            chunk = await connection.read()
            more = not connection.complete
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                return status
    except Broken as error:  # part of the answer is out: nothing to do but end it
        raise UpstreamUnavailable(service) from error


def _request_head(
    method: str,
    target: str,
    host_header: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes | AsyncIterator[bytes] | None,
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), host_header]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    if isinstance(body, bytes):
        lines.append(b"content-length: %d\r\n" % len(body))
    elif body is not None:
        lines.append(b"transfer-encoding: chunked\r\n")
    elif method not in BODILESS_METHODS:
        lines.append(b"content-length: 0\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


class _Retryable(Exception):
    """An attempt that failed before any of its answer reached the client."""

    def __init__(self, reason: str, unavailable: UpstreamUnavailable) -> None:
        self.reason = reason  # refused, draining (never handled) or broken (maybe handled)
        self.unavailable = unavailable


def _may_repeat(
    failure: _Retryable,
    method: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes | AsyncIterator[bytes] | None,
) -> bool:
    if body is not None and not isinstance(body, bytes):
        return False  # streamed: already consumed
    if failure.reason != "broken":
        return True
    return method in IDEMPOTENT_METHODS or any(name == IDEMPOTENCY_KEY for name, _ in headers)


async def _request_body(
    receive: Receive, content_length: int | None, max_body_bytes: int
) -> bytes | AsyncIterator[bytes] | None:
    """Small bodies, sized or not (a GET's empty one), are read whole: cheapest, and they
    can be sent again. Larger ones are streamed."""
    if content_length == 0:
        await receive()
        return None
    if content_length is not None and content_length <= BUFFER_BODIES_UP_TO:
        return await read_body(receive, max_body_bytes)
    if content_length is None:
        received, complete = await _receive_up_to(receive, BUFFER_BODIES_UP_TO)
        if complete:
            checked = _Checked(max_body_bytes)
            return b"".join([checked(message) for message in received]) or None
        receive = replaying(received, receive)
    return _stream(receive, max_body_bytes)


async def _receive_up_to(receive: Receive, size: int) -> tuple[list[Message], bool]:
    """The messages of an unsized body until it ends or passes `size`; whether it ended."""
    received: list[Message] = []
    while size >= 0:
        message = await receive()
        received.append(message)
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return received, True
        size -= len(message.get("body", b""))
    return received, False


def replaying(received: list[Message], receive: Receive) -> Receive:
    """The messages already received, then whatever `receive` brings."""
    pending = list(reversed(received))

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def read_body(receive: Receive, max_body_bytes: int) -> bytes:
    checked = _Checked(max_body_bytes)
    chunks = []
    while True:
        message = await receive()
        chunks.append(checked(message))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _stream(receive: Receive, max_body_bytes: int) -> AsyncIterator[bytes]:
    checked = _Checked(max_body_bytes)
    while True:
        message = await receive()
        if chunk := checked(message):
            yield chunk
        if not message.get("more_body", False):
            return


class _Checked:
    """A body's chunks, one message at a time, within its size limit and free of NULs."""

    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self.size = 0
        self.tail = b""

    def __call__(self, message: Message) -> bytes:
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError("client went away")
        chunk = message.get("body", b"")
        self.size += len(chunk)
        if self.size > self.max_body_bytes:
            raise BodyTooLarge()
        window = self.tail + chunk
        if b"\\u0000" in window and NUL_ESCAPE.search(window):  # the regex scans byte by byte
            raise NulInBody()
        self.tail = window[-NUL_WINDOW_BYTES:]
        return chunk
