"""Idempotency keys: what the gateway (gateway/idempotency.py) and the services
(`shared.idempotency.claims`) keep alike.

A POST or PATCH may carry an `Idempotency-Key`. Its caller (kind and subject) and key are
claimed with a hash of the request; a repeat of the same request gets the first answer again
(`Idempotent-Replayed: true`), another request under the same key a 422. Answers are kept for
24 h, at most 1 MiB of body.
"""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Scope, Send

from shared.auth import Caller
from shared.database import Database
from shared.errors import CEMError

log = structlog.get_logger("idempotency")

HEADER = b"idempotency-key"
GUARDED_METHODS = frozenset({"POST", "PATCH"})
KEEP_ANSWERS_FOR = timedelta(hours=24)
STORED_UP_TO_BYTES = 1024 * 1024  # larger answers are passed on, not kept
REPLAYED = (b"idempotent-replayed", b"true")
PURGE_EVERY_SECONDS = 600.0


class KeyReused(CEMError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused"


def caller_scope(caller: Caller) -> str:
    """Keys are per caller, never shared."""
    return f"{caller.kind.value}:{caller.subject}"


def request_target(scope: Scope) -> str:
    """The path as sent, with its query: what the gateway forwards and the service receives."""
    target = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
    if scope["query_string"]:
        target += "?" + scope["query_string"].decode("latin-1")
    return target


def request_hash(method: str, target: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), target.encode(), body])).hexdigest()


class StoredAnswer(Protocol):
    status: int | None
    content_type: str | None
    location: str | None
    body: bytes | None


class AnswerRecorder:
    """Passes the answer on and keeps a copy of it."""

    KEPT_HEADERS = (b"content-type", b"location")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0
        self.headers: dict[bytes, str] = {}
        self.body: list[bytes] = []
        self.size = 0

    @property
    def keepable(self) -> bool:
        """A 5xx is not kept: it tells the client to try again."""
        kept_status = 200 <= self.status < 300 or 400 <= self.status < 500
        return kept_status and self.size <= STORED_UP_TO_BYTES

    def kept(self) -> dict:
        """The columns an answer is stored in."""
        return {
            "status": self.status,
            "content_type": self.headers.get(b"content-type"),
            "location": self.headers.get(b"location"),
            "body": b"".join(self.body),
        }

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


async def send_answer(stored: StoredAnswer, send: Send, *headers: tuple[bytes, bytes]) -> int:
    """Sends a kept answer again, marked as replayed."""
    body = stored.body or b""
    kept = [
        (name.encode(), value.encode("latin-1"))
        for name, value in (("content-type", stored.content_type), ("location", stored.location))
        if value is not None
    ]
    await send(
        {
            "type": "http.response.start",
            "status": stored.status,
            "headers": [*kept, (b"content-length", str(len(body)).encode()), *headers, REPLAYED],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return stored.status or 0


async def purge_forever(
    database: Database, *, purge: Callable[[AsyncSession], Awaitable[int]]
) -> None:
    """Every few minutes, `purge` drops the answers kept past their 24 h and counts them."""
    while True:
        await asyncio.sleep(PURGE_EVERY_SECONDS)
        try:
            async with database.transaction() as session:
                purged = await purge(session)
            if purged:
                log.info("idempotency_keys_purged", count=purged)
        except Exception as error:
            log.warning("idempotency_purge_failed", error=repr(error))
