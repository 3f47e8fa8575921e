"""Forwards a request to its service over a pooled aiohttp client and streams the answer.

aiohttp, not httpx, on this path: measured here, httpx's async client kept about a tenth
of aiohttp's throughput behind an ASGI proxy at 32 connections.

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

import aiohttp
from prometheus_client import Counter
from starlette.types import Message, Receive, Send

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
# Set by the gateway itself on every response.
REPLACED_IN_RESPONSE = HOP_BY_HOP | {b"x-request-id"}
BUFFER_BODIES_UP_TO = 64 * 1024

# A repeat leaves the same state as one request (RFC 9110 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
IDEMPOTENCY_KEY = b"idempotency-key"
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
    """One keep-alive connection pool per service, opened on first use."""

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
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=5)
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def session(self, service: str) -> aiohttp.ClientSession:
        session = self._sessions.get(service)
        if session is None:
            connector = aiohttp.TCPConnector(
                limit=self._connections, keepalive_timeout=KEEPALIVE_SECONDS, ttl_dns_cache=300
            )
            session = aiohttp.ClientSession(
                self.urls[service],
                connector=connector,
                timeout=self._timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
            )
            self._sessions[service] = session
        return session

    async def close(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

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
        outgoing = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in headers
            if name not in HOP_BY_HOP
        ]
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
                    outgoing = [
                        (name, resign() if name == CALLER_HEADER else value)
                        for name, value in outgoing
                    ]

    async def _attempt(self, service, method, target, outgoing, body, send, request_id) -> int:
        started = False
        try:
            async with self.session(service).request(
                method, target, headers=outgoing, data=body, allow_redirects=False
            ) as response:
                if response.status == 503 and DRAINING_HEADER in response.headers:
                    raise _Retryable("draining", UpstreamUnavailable(service))
                started = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": [
                            *(
                                (name.lower(), value)
                                for name, value in response.raw_headers
                                if name.lower() not in REPLACED_IN_RESPONSE
                            ),
                            *_length_header(response),
                            (b"x-request-id", request_id),
                        ],
                    }
                )
                async for chunk in response.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
                return response.status
        except TimeoutError as error:
            raise UpstreamTimeout(service) from error
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            if isinstance(error.__cause__, BodyTooLarge | NulInBody):  # raised while streaming
                raise error.__cause__ from error
            unavailable = UpstreamUnavailable(service)
            if started:  # part of the answer is out: nothing to do but end it
                raise unavailable from error
            if isinstance(error, aiohttp.ClientConnectorError):
                raise _Retryable("refused", unavailable) from error
            raise _Retryable("broken", unavailable) from error


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


def _length_header(response: aiohttp.ClientResponse) -> list[tuple[bytes, bytes]]:
    length = response.headers.get("Content-Length")
    return [(b"content-length", length.encode())] if length is not None else []


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
        receive = replaying(received, receive)
        if complete:
            return await read_body(receive, max_body_bytes) or None
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
    return b"".join([chunk async for chunk in _stream(receive, max_body_bytes)])


async def _stream(receive: Receive, max_body_bytes: int) -> AsyncIterator[bytes]:
    size = 0
    tail = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError("client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body_bytes:
            raise BodyTooLarge()
        window = tail + chunk
        if b"\\u0000" in window and NUL_ESCAPE.search(window):  # the regex scans byte by byte
            raise NulInBody()
        tail = window[-NUL_WINDOW_BYTES:]
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
