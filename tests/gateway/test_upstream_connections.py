"""The gateway's own HTTP/1.1 client to the services (gateway/upstream.py), through the
edge to a real uvicorn upstream."""

from tests.gateway.conftest import CHUNK
from tests.gateway.support import token

OWNER = {"Authorization": f"Bearer {token()}"}


async def test_an_answer_streamed_without_a_length_arrives_whole(gateway):
    response = await gateway.http.get("/v1/echo/export?chunks=96", headers=OWNER)
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.content == CHUNK * 96  # 1.5 MiB, over what a connection buffers


async def test_a_head_answer_has_the_length_and_no_body_and_the_next_request_is_answered(
    gateway,
):
    got = await gateway.http.get("/v1/echo/thing", headers=OWNER)
    head = await gateway.http.head("/v1/echo/thing", headers=OWNER)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    after = await gateway.http.get("/v1/echo/thing", headers=OWNER)
    assert after.status_code == 200 and after.json()["path"] == "/v1/echo/thing"


async def test_requests_in_turn_share_one_kept_alive_connection(gateway):
    ports = {
        (await gateway.http.get("/v1/echo/x", headers=OWNER)).json()["client_port"]
        for _ in range(5)
    }
    assert len(ports) == 1


async def test_bodies_arrive_with_their_length_streamed_or_empty(gateway):
    async def chunks():
        for _ in range(10):
            yield b"y" * 10_000

    streamed = await gateway.http.post("/v1/echo/x", content=chunks(), headers=OWNER)
    assert streamed.json()["body_length"] == 100_000
    assert streamed.json()["headers"]["transfer-encoding"] == "chunked"
    deleted = await gateway.http.delete("/v1/echo/x", headers=OWNER)
    assert deleted.json()["headers"]["content-length"] == "0"
    assert (
        "content-length"
        not in (await gateway.http.get("/v1/echo/x", headers=OWNER)).json()["headers"]
    )


async def test_a_body_goes_on_with_the_type_the_client_gave_and_none_added(gateway):
    typed = await gateway.http.post(
        "/v1/echo/x", content=b'{"a": 1}', headers=OWNER | {"content-type": "application/json"}
    )
    assert typed.json()["headers"]["content-type"] == "application/json"
    untyped = await gateway.http.post("/v1/echo/x", content=b'{"a": 1}', headers=OWNER)
    assert "content-type" not in untyped.json()["headers"]
