"""The gateway as operators and integrators meet it: events, docs, probes, CORS, key use."""

import uuid

from fastapi import FastAPI
from nats.aio.client import Client

from gateway.models import ApiKey
from gateway.openapi import MISSING, MergedOpenApi
from shared.contracts.profile import DealerRegistered
from shared.messaging.broker import connect, ensure_stream
from shared.messaging.envelope import Envelope
from tests.gateway.support import token
from tests.helpers import eventually

OWNER = {"Authorization": f"Bearer {token()}"}


async def publish(nats: Client, event: DealerRegistered) -> None:
    envelope = Envelope.wrap(event)
    await nats.jetstream().publish(
        event.event_type.subject,
        envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": str(envelope.id)},
    )


async def test_dealers_are_learnt_from_profile_events(gateway, infrastructure):
    dealer_id = uuid.uuid4()
    nats = await connect(infrastructure.nats_url, name="test-profile")
    try:
        await ensure_stream(nats, "profile")
        await publish(
            nats,
            DealerRegistered(
                dealer_id=dealer_id, code="D-42", name="Bund Motors", city="Shanghai", region="East"
            ),
        )
    finally:
        await nats.drain()

    async def keys_can_be_issued() -> bool:
        response = await gateway.http.post(
            f"/v1/gateway/dealers/{dealer_id}/keys", headers=gateway.admin
        )
        return response.status_code == 201

    await eventually(keys_can_be_issued, within_seconds=10)


async def test_key_use_is_recorded_in_batches(make_gateway):
    gateway = await make_gateway(key_use_flush_seconds=0.2)
    issued = await gateway.issue_key(await gateway.known_dealer())
    for _ in range(3):
        await gateway.http.get("/v1/echo/x", headers={"X-API-Key": issued["key"]})

    async def recorded() -> bool:
        async with gateway.app.inner.state.database.transaction() as session:
            key = await session.get(ApiKey, issued["id"])
            return key is not None and key.last_used_at is not None

    await eventually(recorded, within_seconds=5)


async def test_one_openapi_document_for_the_platform(gateway):
    response = await gateway.http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert "/v1/gateway/dealers/{dealer_id}/keys" in document["paths"]
    echo_schema = document["paths"]["/v1/echo/things"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    # Two services' different schemas of one name are both kept, the later one renamed.
    assert echo_schema == {"$ref": "#/components/schemas/echo_ApiKeyRead"}
    schemas = document["components"]["schemas"]
    assert schemas["echo_ApiKeyRead"]["title"] == "EchoThing"
    assert "dealer_id" in schemas["ApiKeyRead"]["properties"]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    docs = await gateway.http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_a_service_that_does_not_answer_is_named_missing_from_the_document():
    """So a client (the simulator) can ask again rather than take its paths for absent."""
    merged = MergedOpenApi(FastAPI(), {"down": "http://127.0.0.1:1"})
    document = await merged.document()
    assert document["info"][MISSING] == ["down"]
    assert document["paths"] == {}


async def test_a_wrong_method_is_a_405_problem(gateway):
    response = await gateway.http.get("/v1/gateway/keys/0123456789ab/revoke", headers=gateway.admin)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


async def test_probes_and_metrics(gateway):
    assert (await gateway.http.get("/healthz")).status_code == 200
    assert (await gateway.http.get("/readyz")).status_code == 200
    await gateway.http.get("/v1/echo/x", headers=OWNER)
    metrics = await gateway.http.get("/metrics")
    assert 'cem_gateway_requests_total{service="echo",status="200"}' in metrics.text


async def test_cors_preflight_for_the_app(make_gateway):
    gateway = await make_gateway(cors_origins=["https://app.example"])
    response = await gateway.http.options(
        "/v1/echo/x",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    other = await gateway.http.options(
        "/v1/echo/x",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in other.headers
