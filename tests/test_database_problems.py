"""A database that cannot serve a request is a retryable 503 problem, never a bare 500."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from shared.http import install_problem_handlers


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/x")
    async def fail() -> None:
        raise error

    return app


async def get(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/x")


@pytest.mark.parametrize(
    "error",
    [
        PoolTimeout("QueuePool limit of size 10 overflow 10 reached"),
        DBAPIError("SELECT 1", {}, ConnectionRefusedError("refused"), connection_invalidated=True),
    ],
    ids=["pool exhausted", "connection lost"],
)
async def test_an_unavailable_database_is_a_retryable_503(error):
    response = await get(app_raising(error))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "database_unavailable"


async def test_any_other_database_error_stays_a_500():
    error = ProgrammingError("SELECT nonsense", {}, Exception("syntax error"))
    assert (await get(app_raising(error))).status_code == 500


async def _deadlock_victim(url: str, via_sqlalchemy: bool) -> Exception:
    """Two transactions locking two rows in opposite order: the error PostgreSQL gives the
    one it aborts, as the driver or SQLAlchemy raises it."""
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS deadlock_probe"))
        await connection.execute(text("CREATE TABLE deadlock_probe (id int PRIMARY KEY)"))
        await connection.execute(text("INSERT INTO deadlock_probe VALUES (1), (2)"))
    first, second = await engine.connect(), await engine.connect()
    try:
        for connection, row in ((first, 1), (second, 2)):
            await connection.begin()
            await connection.execute(
                text(f"SELECT * FROM deadlock_probe WHERE id = {row} FOR UPDATE")
            )
        outcomes = await asyncio.gather(
            first.execute(text("SELECT * FROM deadlock_probe WHERE id = 2 FOR UPDATE")),
            second.execute(text("SELECT * FROM deadlock_probe WHERE id = 1 FOR UPDATE")),
            return_exceptions=True,
        )
    finally:
        await first.close()
        await second.close()
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE deadlock_probe"))
        await engine.dispose()
    [victim] = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert isinstance(victim, DBAPIError)
    return victim if via_sqlalchemy else victim.orig.__cause__


@pytest.mark.parametrize("via_sqlalchemy", [True, False], ids=["sqlalchemy", "driver"])
async def test_a_deadlock_victim_is_told_to_send_again(infrastructure, via_sqlalchemy):
    victim = await _deadlock_victim(infrastructure.database_url, via_sqlalchemy)
    response = await get(app_raising(victim))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "transaction_conflict"
