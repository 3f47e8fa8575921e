"""A database that cannot serve a request is a retryable 503 problem, never a bare 500."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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
