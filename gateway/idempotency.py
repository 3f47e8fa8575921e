"""Idempotency keys, kept once at the edge for every service.

A POST or PATCH carrying an `Idempotency-Key` claims (caller, key) in the gateway's database
before it goes on. A repeat by the same caller with the same method, path and body gets the
first answer back (`Idempotent-Replayed: true`); with another request, a 422; while the first
is still running, it waits a little, then gets a 409 with `Retry-After`. Only 2xx and 4xx
answers are kept (for 24 h): a 5xx or a failure releases the claim, so the client may retry.
Keys are per caller (kind and subject), never shared. Requests without the header never
come here.

The service keeps the key too (`shared.idempotency.claims`), in the transaction of the
request's effect, so the proxy's resend of a keyed request whose connection broke (its
first attempt may have been applied) gets the service's first answer, or its 409 saying the
request was applied: that answer is passed on and kept here like any other.
"""

import asyncio
import functools
import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Send

from gateway.models import IdempotentRequest, utc_now
from gateway.proxy import read_body, replaying
from gateway.repository import IdempotentRequests
from shared.database import Database
from shared.errors import Conflict, InvalidInput
from shared.idempotency import (
    GUARDED_METHODS,
    HEADER,
    KEEP_ANSWERS_FOR,
    AnswerRecorder,
    KeyReused,
    caller_scope,
    purge_forever,
    request_hash,
    send_answer,
)

__all__ = ["Idempotency", "caller_scope", "purge_expired", "requested_key"]

VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII, as a header value carries it
# A claim still running after this was left by a gateway that died: it may be taken over.
CLAIM_ABANDONED_AFTER = timedelta(minutes=5)
WAIT_FOR_FIRST_SECONDS = 3.0
POLL_SECONDS = 0.1
RETRY_AFTER_SECONDS = 1

Forward = Callable[..., Awaitable[int]]  # the proxy's forward(receive=, send=, content_length=)


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
        claim = IdempotentRequest(
            caller=caller, key=key, request_hash=request_hash(method, target, body)
        )
        deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
        while not await self._claim(claim):
            async with self.database.transaction() as session:
                stored = await IdempotentRequests(session).get(caller, key)
            if stored is None:
                continue  # released or expired meanwhile: claim it again
            if stored.request_hash != claim.request_hash:
                raise KeyReused("Idempotency-Key reused with a different request")
            if stored.status is not None:
                return await send_answer(stored, send, (b"x-request-id", request_id))
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
        answer = AnswerRecorder(send)
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
            await IdempotentRequests(session).finish(claim.caller, claim.key, **answer.kept())
        return status

    async def _release(self, claim: IdempotentRequest) -> None:
        async with self.database.transaction() as session:
            await IdempotentRequests(session).release(claim.caller, claim.key)


def _whole(body: bytes) -> Message:
    return {"type": "http.request", "body": body, "more_body": False}


async def _purge_expired(session: AsyncSession) -> int:
    return await IdempotentRequests(session).purge_expired(utc_now())


# A gateway worker: drops the answers kept past their 24 h.
purge_expired = functools.partial(purge_forever, purge=_purge_expired)
