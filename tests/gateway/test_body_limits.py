"""A service may take larger bodies than the gateway's default (telematics' signal batches);
every other service keeps the default."""

from tests.gateway.support import token

OWNER = {"Authorization": f"Bearer {token()}"}


async def test_a_service_with_its_own_body_limit_takes_larger_bodies(make_gateway):
    gateway = await make_gateway(max_body_bytes=100_000, service_max_body_bytes={"echo": 300_000})
    fits = await gateway.http.post("/v1/echo/x", content=b"z" * 250_000, headers=OWNER)
    assert fits.status_code == 200 and fits.json()["body_length"] == 250_000
    sized = await gateway.http.post("/v1/echo/x", content=b"x" * 300_001, headers=OWNER)
    assert sized.status_code == 413
    assert "300000 bytes" in sized.json()["detail"]

    async def chunks():
        for _ in range(40):
            yield b"y" * 10_000

    streamed = await gateway.http.post("/v1/echo/x", content=chunks(), headers=OWNER)
    assert streamed.status_code == 413


async def test_other_services_keep_the_default_limit(make_gateway):
    gateway = await make_gateway(max_body_bytes=100_000, service_max_body_bytes={"echo": 300_000})
    refused = await gateway.http.post("/v1/down/x", content=b"x" * 150_000, headers=OWNER)
    assert refused.status_code == 413
    assert "100000 bytes" in refused.json()["detail"]
