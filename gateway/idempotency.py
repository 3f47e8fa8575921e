"""Idempotency keys, kept once at the edge for every service.

A POST or PATCH carrying an `Idempotency-Key` claims (caller, key) in the gateway's database
before it goes on. A repeat by the same caller with the same method, path and body gets the
first answer back (`Idempotent-Replayed: true`); with another request, a 422; while the first
is still running, it waits a little, then gets a 409 with `Retry-After`. Only 2xx and 4xx
answers are kept (for 24 h): a 5xx or a failure releases the claim, so the client may retry.
Keys are per caller (kind and subject), never shared. Requests without the header never
come here.
"""

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from starlette.types import Message, Receive, Send

from gateway.models import IdempotentRequest, utc_now
from gateway.proxy import read_body, replaying
from gateway.repository import IdempotentRequests
from shared.auth import Caller
from shared.database import Database
from shared.errors import CEMError, Conflict, InvalidInput

log = structlog.get_logger("gateway.idempotency")

HEADER = b"idempotency-key"
GUARDED_METHODS = frozenset({"POST", "PATCH"})
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII, as a header value carries it
KEEP_ANSWERS_FOR = timedelta(hours=24)
# A claim still running after this was left by a gateway that died: it may be taken over.
CLAIM_ABANDONED_AFTER = timedelta(minutes=5)
WAIT_FOR_FIRST_SECONDS = 3.0
POLL_SECONDS = 0.1
RETRY_AFTER_SECONDS = 1
STORED_UP_TO_BYTES = 1024 * 1024  # larger answers are passed on, not kept
PURGE_EVERY_SECONDS = 600.0
REPLAYED = (b"idempotent-replayed", b"true")

Forward = Callable[..., Awaitable[int]]  # the proxy's forward(receive=, send=, content_length=)


class KeyReused(CEMError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused"


class StillRunning(Conflict):
    code = "idempotency_key_in_use"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]


def requested_key(method: str, headers: list[tuple[bytes, bytes]]) -> str | None:
    """The request's valid `Idempotency-Key`, if it is a POST or PATCH that sends one."""
    if method not in GUARDED_METHODS:
        return None
    for name, value in headers:
        if name == HEADER:
            key = value.decode("latin-1")
            if not VALID_KEY.fullmatch(key) or not key.strip():
                raise InvalidInput.for_field(
                    "Idempotency-Key", "must be 1 to 255 printable ASCII characters"
                )
            return key
    return None


def caller_scope(caller: Caller) -> str:
    return f"{caller.kind.value}:{caller.subject}"


class Idempotency:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def handle(
        self,
        *,
        caller: str,
        key: str,
        method: str,
        target: str,
        receive: Receive,
        send: Send,
        max_body_bytes: int,
        request_id: bytes,
        forward: Forward,
    ) -> int:
        body = await read_body(receive, max_body_bytes)
        request_hash = hashlib.sha256(b"\n".join([method.encode(), target.encode(), body]))
        claim = IdempotentRequest(caller=caller, key=key, request_hash=request_hash.hexdigest())
        deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
        while not await self._claim(claim):
            async with self.database.transaction() as session:
                stored = await IdempotentRequests(session).get(caller, key)
            if stored is None:
                continue  # released or expired meanwhile: claim it again
            if stored.request_hash != claim.request_hash:
                raise KeyReused("Idempotency-Key reused with a different request")
            if stored.status is not None:
                return await _replay(stored, send, request_id)
            if time.monotonic() >= deadline:
                raise StillRunning("A request with this Idempotency-Key is still running")
            await asyncio.sleep(POLL_SECONDS)
        return await self._first(claim, body, receive, send, forward)

    async def _claim(self, claim: IdempotentRequest) -> bool:
        now = utc_now()
        claim.created_at, claim.expires_at = now, now + KEEP_ANSWERS_FOR
        async with self.database.transaction() as session:
            return await IdempotentRequests(session).claim(
                claim, abandoned_before=now - CLAIM_ABANDONED_AFTER
            )

    async def _first(self, claim, body: bytes, receive: Receive, send: Send, forward) -> int:
        answer = _Recorder(send)
        try:
            status = await forward(
                receive=replaying([_whole(body)], receive),
                send=answer.send,
                content_length=len(body),
            )
        except BaseException:
            await self._release(claim)
            raise
        if not answer.keepable:
            await self._release(claim)
            return status
        async with self.database.transaction() as session:
            await IdempotentRequests(session).finish(
                claim.caller,
                claim.key,
                status=answer.status,
                content_type=answer.headers.get(b"content-type"),
                location=answer.headers.get(b"location"),
                body=b"".join(answer.body),
            )
        return status

    async def _release(self, claim: IdempotentRequest) -> None:
        async with self.database.transaction() as session:
            await IdempotentRequests(session).release(claim.caller, claim.key)


class _Recorder:
    """Passes the answer on to the client and keeps a copy of it."""

    KEPT_HEADERS = (b"content-type", b"location")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0
        self.headers: dict[bytes, str] = {}
        self.body: list[bytes] = []
        self.size = 0

    @property
    def keepable(self) -> bool:
        kept_status = 200 <= self.status < 300 or 400 <= self.status < 500
        return kept_status and self.size <= STORED_UP_TO_BYTES

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message["headers"]:
                if name.lower() in self.KEPT_HEADERS:
                    self.headers[name.lower()] = value.decode("latin-1")
        elif chunk := message.get("body", b""):
            self.size += len(chunk)
            if self.size <= STORED_UP_TO_BYTES:
                self.body.append(chunk)
        await self._send(message)


def _whole(body: bytes) -> Message:
    return {"type": "http.request", "body": body, "more_body": False}


async def _replay(stored: IdempotentRequest, send: Send, request_id: bytes) -> int:
    body = stored.body or b""
    headers = [
        (name.encode(), value.encode("latin-1"))
        for name, value in (("content-type", stored.content_type), ("location", stored.location))
        if value is not None
    ]
    await send(
        {
            "type": "http.response.start",
            "status": stored.status,
            "headers": [
                *headers,
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id),
                REPLAYED,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return stored.status or 0


async def purge_expired(database: Database) -> None:
    """Drops the answers kept past their 24 h, every few minutes."""
    while True:
        await asyncio.sleep(PURGE_EVERY_SECONDS)
        try:
            async with database.transaction() as session:
                purged = await IdempotentRequests(session).purge_expired(utc_now())
            if purged:
                log.info("idempotency_keys_purged", count=purged)
        except Exception as error:
            log.warning("idempotency_purge_failed", error=repr(error))
