"""Async PostgreSQL access: one database per service, one transaction per unit of work.

The edge that starts a unit of work (a request, an event delivery, a timer) owns its
transaction through `Database.transaction()`; services and repositories only flush. Each
transaction starts by telling PostgreSQL whose rows it may touch (`RowScope`), which the
row-level security policies enforce for the application role services connect as.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager, suppress
from typing import TypeVar

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from shared.config import CommonSettings
from shared.scoping import EVERY_DEALER, NO_DEALER, RowScope

# Set in `session.info` by whoever writes an outbox row, so the relay is woken after commit.
EVENTS_WRITTEN = "cem_events_written"
ROW_SCOPE = "cem_row_scope"
# Set in `session.info` by `before_commit`: work done once, just before the transaction commits.
BEFORE_COMMIT = "cem_before_commit"
# Set in `session.info` by `once_a_transaction`: answers kept until the transaction ends.
ANSWERS = "cem_answers"
Answer = TypeVar("Answer")
# `true`: the settings last until the transaction ends (SET LOCAL), never onto the next user
# of the pooled connection.
_SET_ROW_SCOPE = text(
    "SELECT set_config('cem.scope', :scope, true), set_config('cem.dealer_ids', :dealer_ids, true)"
)


def server_url(settings: CommonSettings) -> URL:
    return make_url(settings.database_url).set(drivername="postgresql+asyncpg")


def service_url(settings: CommonSettings, service: str) -> URL:
    """The service's database as the owner of its tables: what migrations connect with."""
    return server_url(settings).set(database=settings.database_name(service))


def application_url(settings: CommonSettings, service: str) -> URL:
    """The service's database as the application role, which row-level security binds:
    what the running service connects with."""
    url = make_url(settings.application_database_url()).set(drivername="postgresql+asyncpg")
    return url.set(database=settings.database_name(service))


async def create_database_if_missing(settings: CommonSettings, service: str) -> None:
    """Creates `<prefix>_<service>` on the configured server; safe to race."""
    url = server_url(settings)
    name = settings.database_name(service)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await connection.close()


class ScopedSession(Session):
    """A session that sets its row scope at the start of every transaction it begins."""


@event.listens_for(ScopedSession, "after_begin")
def _set_row_scope(session: Session, _: SessionTransaction, connection: Connection) -> None:
    # A session not opened by `Database.transaction()` has no scope: it sees no dealer's rows.
    connection.execute(_SET_ROW_SCOPE, session.info.get(ROW_SCOPE, NO_DEALER).settings())


@asynccontextmanager
async def every_dealer(session: AsyncSession) -> AsyncIterator[None]:
    """Lets the statements inside see every dealer's rows, then puts the transaction's scope
    back. Only for what a dealer's request sets off but never shows it: a derivation over an
    owner's records at every dealer (their lifecycle stage, latest score), or a uniqueness
    check the application then answers in its own words."""
    scope = session.info.get(ROW_SCOPE, NO_DEALER)
    await _switch_row_scope(session, EVERY_DEALER)
    try:
        yield
    except BaseException:
        with suppress(DBAPIError):  # an aborted transaction rolls its settings back anyway
            await _switch_row_scope(session, scope)
        raise
    await _switch_row_scope(session, scope)


async def _switch_row_scope(session: AsyncSession, scope: RowScope) -> None:
    session.info[ROW_SCOPE] = scope  # and for a transaction begun after a commit
    await session.execute(_SET_ROW_SCOPE, scope.settings())


def before_commit(
    session: AsyncSession, key: str, action: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    """Has `action` run once just before the transaction commits, however often it is
    registered under `key`: what each event of a fetch sets off (recomputing an owner's
    segments, say) is then done once for all of them, and holds its row locks briefly."""
    session.info.setdefault(BEFORE_COMMIT, {})[key] = action


async def once_a_transaction(
    session: AsyncSession, question: Hashable, load: Callable[[], Awaitable[Answer]]
) -> Answer:
    """`load()`'s answer to `question`, asked once a transaction: for what event handlers
    read but never change (configuration: journey definitions, survey triggers), so the
    events of a fetch, which share a transaction, ask once for all; a change shows from the
    next fetch."""
    answers = session.info.setdefault(ANSWERS, {})
    if question not in answers:
        answers[question] = await load()
    return answers[question]


async def _run_before_commit(session: AsyncSession) -> None:
    while actions := session.info.pop(BEFORE_COMMIT, None):  # an action may register more
        for action in actions.values():
            await action(session)


class Database:
    def __init__(self, url: URL | str, *, pool_size: int = 10) -> None:
        self.engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=ScopedSession
        )
        self._commit_listeners: list[Callable[[], None]] = []

    def on_events_committed(self, listener: Callable[[], None]) -> None:
        self._commit_listeners.append(listener)

    @asynccontextmanager
    async def transaction(self, scope: RowScope = EVERY_DEALER) -> AsyncIterator[AsyncSession]:
        """Commits when the block ends normally, rolls back when it raises. `scope`: whose
        rows it may touch; a request's is its caller's, background work's every dealer's."""
        async with self.sessions(info={ROW_SCOPE: scope}) as session:
            try:
                yield session
                await _run_before_commit(session)
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            if session.info.pop(EVENTS_WRITTEN, False):
                for listener in self._commit_listeners:
                    listener()

    async def is_ready(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
