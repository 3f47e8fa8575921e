"""Idempotency keys at the gateway, in front of a real upstream that counts what it creates."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import uvicorn
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cli.embedded import free_port
from gateway.models import IdempotentRequest, utc_now
from gateway.repository import IdempotentRequests
from shared.auth import CallerKind
from tests.helpers import eventually

CREATED: list[dict] = []


async def _create(request: Request) -> JSONResponse:
    """Creates a thing per request (slowly, so duplicates overlap); `fail` answers a 500."""
    body = await request.json()
    await asyncio.sleep(0.2)
    if body.get("fail"):
        CREATED.append({"failed": body})
        return JSONResponse({"detail": "boom"}, status_code=500)
    thing = {"id": str(uuid.uuid4()), **body}
    CREATED.append(thing)
    return JSONResponse(thing, status_code=201, headers={"Location": f"/things/{thing['id']}"})


@pytest.fixture(scope="module")
async def things_url() -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/v1/things/things", _create, methods=["POST", "PATCH"])])
    server = uvicorn.Server(uvicorn.Config(app, port=free_port(), log_level="warning"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, within_seconds=10)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    await task


@pytest.fixture
async def gateway(make_gateway, things_url):
    return await make_gateway(upstreams={"things": things_url})


def _owner(gateway, key: str | None = None) -> dict[str, str]:
    headers = gateway.bearer(CallerKind.OWNER, str(uuid.uuid4()))
    return headers | ({"Idempotency-Key": key} if key else {})


def _made(name: str) -> list[dict]:
    return [thing for thing in CREATED if thing.get("name") == name]


async def test_a_repeat_gets_the_first_answer_and_creates_nothing(gateway):
    headers = _owner(gateway, "order-1")
    first = await gateway.http.post("/v1/things/things", json={"name": "a"}, headers=headers)
    again = await gateway.http.post("/v1/things/things", json={"name": "a"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(_made("a")) == 1


async def test_the_same_key_with_another_body_is_refused(gateway):
    headers = _owner(gateway, "order-2")
    await gateway.http.post("/v1/things/things", json={"name": "b"}, headers=headers)
    other = await gateway.http.post("/v1/things/things", json={"name": "b2"}, headers=headers)

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert "different request" in other.json()["detail"]
    assert _made("b2") == []


async def test_concurrent_duplicates_create_once(gateway):
    headers = _owner(gateway, "order-3")
    answers = await asyncio.gather(
        *(
            gateway.http.post("/v1/things/things", json={"name": "c"}, headers=headers)
            for _ in range(20)
        )
    )

    assert len(_made("c")) == 1
    created = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    assert created == {_made("c")[0]["id"]}
    # A duplicate that waited past the first's run is told to come back, never given another.
    assert {answer.status_code for answer in answers} <= {201, 409}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["retry-after"]


async def test_keys_are_per_caller(gateway):
    dealers = [await gateway.issue_key(await gateway.known_dealer()) for _ in range(2)]
    answers = [
        await gateway.http.post(
            "/v1/things/things",
            json={"name": "d"},
            headers={"X-API-Key": issued["key"], "Idempotency-Key": "shared-key"},
        )
        for issued in dealers
    ]

    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    assert "idempotent-replayed" not in answers[1].headers
    assert len(_made("d")) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\tkey", "ключ".encode()])
async def test_a_bad_key_is_refused_naming_the_header(gateway, key):
    headers = _owner(gateway) | {"Idempotency-Key": key}
    response = await gateway.http.post("/v1/things/things", json={"name": "e"}, headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _made("e") == []


async def test_a_5xx_is_not_kept_so_a_retry_runs_again(gateway):
    headers = _owner(gateway, "order-6")
    body = {"name": "f", "fail": True}
    first = await gateway.http.post("/v1/things/things", json=body, headers=headers)
    again = await gateway.http.post("/v1/things/things", json=body, headers=headers)

    assert first.status_code == again.status_code == 500
    assert "idempotent-replayed" not in again.headers
    assert len([thing for thing in CREATED if thing.get("failed") == body]) == 2


async def test_an_expired_answer_is_purged_and_its_key_free_again(gateway):
    headers = _owner(gateway, "order-7")
    await gateway.http.post("/v1/things/things", json={"name": "g"}, headers=headers)
    database = gateway.app.inner.state.database
    async with database.transaction() as session:
        await session.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.key == "order-7")
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
        assert await IdempotentRequests(session).purge_expired(utc_now()) >= 1
        assert (
            await session.scalar(
                select(IdempotentRequest).where(IdempotentRequest.key == "order-7")
            )
            is None
        )

    again = await gateway.http.post("/v1/things/things", json={"name": "g"}, headers=headers)
    assert "idempotent-replayed" not in again.headers
    assert len(_made("g")) == 2
