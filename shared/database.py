"""Async PostgreSQL access: one database per service, one transaction per unit of work.

The edge that starts a unit of work (a request, an event delivery, a timer) owns its
transaction through `Database.transaction()`; services and repositories only flush.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from shared.config import CommonSettings

# Set in `session.info` by whoever writes an outbox row, so the relay is woken after commit.
EVENTS_WRITTEN = "cem_events_written"


def server_url(settings: CommonSettings) -> URL:
    return make_url(settings.database_url).set(drivername="postgresql+asyncpg")


def service_url(settings: CommonSettings, service: str) -> URL:
    return server_url(settings).set(database=settings.database_name(service))


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


class Database:
    def __init__(self, url: URL | str, *, pool_size: int = 10) -> None:
        self.engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._commit_listeners: list[Callable[[], None]] = []

    def on_events_committed(self, listener: Callable[[], None]) -> None:
        self._commit_listeners.append(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commits when the block ends normally, rolls back when it raises."""
        async with self.sessions() as session:
            try:
                yield session
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
