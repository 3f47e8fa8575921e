"""Idempotency keys in every service, claimed in the transaction of the request's effect.

The gateway keeps keys at the edge, but it sends a keyed request again when the connection to
the service broke after the request went out (gateway/proxy.py), and by then the service may
have committed it. So the request's transaction (`shared.dependencies.Session`) claims
(caller, key) in the service's `idempotent_requests` before the route runs: the effect and the
claim commit together or not at all. A second arrival of the same request finds the claim:

- with the answer recorded (`IdempotentAnswers`, just after it was sent): that answer again;
- with none after a few seconds (the process died between commit and recording, or the
  answer was a 5xx or over 1 MiB): a 409, the request was applied and nothing is applied again;
- while the first is still running: it waits on the first's uncommitted claim, so two
  concurrent copies apply once.

The same key with another request: 422. A request the route rolls back (a 4xx) leaves no
claim, so its repeat runs again. Requests without the header pay one look through their
headers, no query.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass
from functools import partial

import structlog
from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth import Caller, CallerKind
from shared.database import Database
from shared.errors import Conflict
from shared.idempotency import (
    GUARDED_METHODS,
    HEADER,
    KEEP_ANSWERS_FOR,
    AnswerRecorder,
    KeyReused,
    StoredAnswer,
    caller_scope,
    purge_forever,
    request_hash,
    request_target,
    send_answer,
)

log = structlog.get_logger("idempotency")

# How long a repeat waits for the first's answer to be recorded, after its commit.
WAIT_FOR_ANSWER_SECONDS = 3.0
POLL_SECONDS = 0.1
_KEYED = "cem.keyed_request"  # the scope entry `IdempotentAnswers` leaves for the claim

# As created by `shared.idempotency.migration` in every service's database.
idempotent_requests = Table(
    "idempotent_requests",
    MetaData(),
    Column("caller", Text, primary_key=True),  # kind:subject
    Column("key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),  # sha256 of method, path and body
    Column("status", SmallInteger),  # None: applied, answer not recorded (yet)
    Column("content_type", Text),
    Column("location", Text),
    Column("body", LargeBinary),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


class AnswerUnavailable(Conflict):
    code = "idempotency_answer_unavailable"


@dataclass
class _KeyedRequest:
    key: str
    claimed_as: str | None = None  # the caller, once this request holds the claim


class _Replay(Exception):
    """Not an error: how the claim hands `IdempotentAnswers` the first answer to send."""

    def __init__(self, stored: StoredAnswer) -> None:
        self.stored = stored


async def claim_key(request: Request, caller: Caller, session: AsyncSession) -> None:
    """Claims the request's key in `session`, the request's own transaction; for a repeat,
    has the first answer sent instead of running the route, or refuses it (409, 422)."""
    keyed: _KeyedRequest | None = request.scope.get(_KEYED)
    if keyed is None:
        return
    table = idempotent_requests.c
    claim = {
        "caller": caller_scope(caller),
        "key": keyed.key,
        "request_hash": request_hash(
            request.method, request_target(request.scope), await request.body()
        ),
    }
    first = select(idempotent_requests).where(
        table.caller == claim["caller"], table.key == claim["key"]
    )
    deadline = time.monotonic() + WAIT_FOR_ANSWER_SECONDS
    # Waits while another transaction holds an uncommitted claim of the key.
    while not await session.scalar(
        insert(idempotent_requests).values(claim).on_conflict_do_nothing().returning(table.key)
    ):
        stored = (await session.execute(first)).one_or_none()
        if stored is None:
            continue  # purged meanwhile: claim it
        if stored.request_hash != claim["request_hash"]:
            raise KeyReused("Idempotency-Key reused with a different request")
        if stored.status is not None:
            raise _Replay(stored)
        if time.monotonic() >= deadline:
            raise AnswerUnavailable(
                "A request with this Idempotency-Key was already applied; "
                "its answer is not available"
            )
        await asyncio.sleep(POLL_SECONDS)
    keyed.claimed_as = claim["caller"]


class IdempotentAnswers:
    """Around a service's app: marks a POST or PATCH with an `Idempotency-Key` for
    `claim_key`, records the answer of the one that claimed it once the answer is sent, and
    sends a repeat the answer recorded before."""

    def __init__(self, app: ASGIApp, *, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _requested_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        keyed = scope[_KEYED] = _KeyedRequest(key)
        answer = AnswerRecorder(send)
        try:
            await self.app(scope, receive, answer.send)
        except _Replay as replay:
            await send_answer(replay.stored, send)
            return
        if keyed.claimed_as is not None and answer.keepable:
            await self._record(keyed, answer)

    async def _record(self, keyed: _KeyedRequest, answer: AnswerRecorder) -> None:
        """The client has its answer: should this fail, a repeat gets the 409."""
        table = idempotent_requests.c
        try:
            async with self.database.transaction() as session:
                await session.execute(
                    update(idempotent_requests)
                    .where(table.caller == keyed.claimed_as, table.key == keyed.key)
                    .values(answer.kept())
                )
        except Exception as error:
            log.warning("idempotent_answer_not_recorded", error=repr(error))


def _requested_key(scope: Scope) -> str | None:
    """The key of a POST or PATCH that sends one (the gateway has checked its form)."""
    if scope["type"] != "http" or scope["method"] not in GUARDED_METHODS:
        return None
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("latin-1")
    return None


async def forget_answers_about(session: AsyncSession, owner_id: uuid.UUID) -> int:
    """An owner's erasure: the kept answers that name them (requests about them, and their
    own) are blanked, not kept out their 24 h. The claims stay, so a repeat of one of those
    requests gets the 409 of an answer no longer available, and is not applied again."""
    result = await session.execute(
        _FORGET_ANSWERS,
        {"caller": f"{CallerKind.OWNER.value}:{owner_id}", "id": str(owner_id),
         "needle": str(owner_id).encode()},
    )  # fmt: skip
    return result.rowcount


_FORGET_ANSWERS = text(
    "UPDATE idempotent_requests SET status = NULL, content_type = NULL, location = NULL, "
    "body = NULL WHERE status IS NOT NULL AND (caller = :caller "
    "OR position(CAST(:needle AS bytea) IN body) > 0 OR strpos(location, :id) > 0)"
)


async def _purge_old_answers(session: AsyncSession) -> int:
    cutoff = func.now() - KEEP_ANSWERS_FOR
    result = await session.execute(
        delete(idempotent_requests).where(idempotent_requests.c.created_at < cutoff)
    )
    return result.rowcount


# A service worker: forgets the answers kept past their 24 h.
purge_old_answers = partial(purge_forever, purge=_purge_old_answers)
