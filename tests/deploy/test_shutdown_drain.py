"""What a service does between SIGTERM and exit (shared/runtime.py): readiness turns 503 and
new requests are refused as retryable, the relay publishes what was committed, and consumers
finish the event in hand and give the rest back to the broker at once."""

import asyncio
import os
import signal
import uuid

import httpx
from fastapi import APIRouter

from shared.config import ServiceSettings
from shared.messaging.consumer import ConsumerSettings
from shared.runtime import DRAINING_HEADER, build_service_app, drain_on_termination
from tests.helpers import eventually, running
from tests.messaging.harness import (
    Pipeline,
    apply_effect,
    effect_counts,
    fresh_database,
    messaging_metadata,
    produce,
    unpublished,
)

EVENTS = 20


async def test_sigterm_reaches_the_runtime_before_the_servers_own_handler():
    heard: list[str] = []
    original = signal.signal(signal.SIGTERM, lambda *_: heard.append("server"))
    try:
        restore = drain_on_termination(lambda: heard.append("runtime"))
        os.kill(os.getpid(), signal.SIGTERM)
        await eventually(lambda: _true(len(heard) == 2), within_seconds=5)
        restore()
        os.kill(os.getpid(), signal.SIGTERM)
        await eventually(lambda: _true(len(heard) == 3), within_seconds=5)
    finally:
        signal.signal(signal.SIGTERM, original)
    assert heard == ["runtime", "server", "server"]


async def _true(value: bool) -> bool:
    return value


async def test_a_draining_service_is_not_ready_and_refuses_new_requests(infrastructure):
    service = f"drain_{uuid.uuid4().hex[:6]}"
    settings = ServiceSettings(**infrastructure.settings().model_dump())
    database = await fresh_database(settings, service, messaging_metadata(False))
    await database.dispose()
    router = APIRouter()

    @router.post("/orders")
    async def create_order() -> dict[str, str]:
        return {"status": "created"}

    app = build_service_app(
        service=service, settings=settings, routers=[router], produces_events=False, title="t"
    )
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.post(f"/v1/{service}/orders")).status_code == 200

        app.state.runtime.begin_draining()

        assert (await http.get("/readyz")).status_code == 503
        assert (await http.get("/healthz")).status_code == 200
        refused = await http.post(f"/v1/{service}/orders")
        assert refused.status_code == 503 and refused.json()["code"] == "service_draining"
        assert refused.headers[DRAINING_HEADER] == "1" and refused.headers["retry-after"] == "1"
        assert refused.headers["connection"] == "close"


async def test_a_stopped_relay_publishes_what_was_committed_then_returns(infrastructure):
    async with Pipeline(infrastructure.settings(), infrastructure.nats_url) as pipeline:
        relay = pipeline.relay()
        relay.interval_seconds = 3600  # only a commit or the stop wakes it
        running_relay = pipeline._start(relay.run())
        await produce(pipeline.producer, range(EVENTS))
        relay.stop()
        await asyncio.wait_for(running_relay, timeout=60)
        assert await unpublished(pipeline.producer) == 0


async def test_a_stopped_consumer_finishes_its_event_and_hands_back_the_rest(infrastructure):
    handled = asyncio.Event()

    async def slow_effect(session, envelope, event) -> None:
        await apply_effect(session, envelope, event)
        handled.set()
        await asyncio.sleep(0.2)

    # An ack wait far longer than the test: only a nak brings the rest back this soon.
    patient = ConsumerSettings(batch=EVENTS, ack_wait_seconds=600, backoff_seconds=(0.1,))
    pipeline = Pipeline(
        infrastructure.settings(),
        infrastructure.nats_url,
        handler=slow_effect,
        consumer_settings=patient,
    )
    async with pipeline:
        await produce(pipeline.producer, range(EVENTS))
        pipeline.start_relay()
        first = pipeline.event_consumer()
        running_consumer = pipeline._start(first.run())
        await handled.wait()
        first.stop()
        await asyncio.wait_for(running_consumer, timeout=60)
        applied, applications = await effect_counts(pipeline.consumer)
        assert 0 < applied < EVENTS and applications == applied  # none cut off half-way

        pipeline.start_consumer()

        async def all_applied() -> bool:
            return (await effect_counts(pipeline.consumer))[0] == EVENTS

        await eventually(all_applied, within_seconds=120)
        assert await effect_counts(pipeline.consumer) == (EVENTS, EVENTS)
