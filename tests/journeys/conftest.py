"""The journeys service in-process, on its own migrated database and real NATS, with a clock
that tests move (waits and quiet hours need no waiting) and development senders whose
records show what would have been sent. Tests run the workers themselves (`steps`,
`deliveries`), so nothing happens behind their backs."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.journeys.config import MIGRATIONS_DIR, JourneysSettings
from services.journeys.main import create_app
from services.journeys.senders import WebhookSender, development_senders
from services.journeys.timers import DeliveryWorker, StepWorker
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import (
    ConsentChanged,
    OwnerRegistered,
    SegmentMembershipChanged,
    VehicleRegistered,
)
from shared.messaging.envelope import Envelope, Event
from shared.migrations import upgrade
from tests.helpers import (
    FakeClock,
    Publish,
    ServiceClient,
    event_publisher,
    eventually,
    inbox_holds,
)

MARKETER = Caller(
    kind=CallerKind.STAFF, subject="marketer@test", roles=frozenset({StaffRole.MARKETING})
)
AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))
QUALITY = Caller(
    kind=CallerKind.STAFF, subject="quality@test", roles=frozenset({StaffRole.QUALITY_ENGINEER})
)
ADMIN = Caller(kind=CallerKind.STAFF, subject="admin@test", roles=frozenset({StaffRole.ADMIN}))
# Tuesday 3 March 2026, 10:00 in Shanghai: outside the default quiet hours (21:00-08:00).
MORNING = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


class FakeReceiver:
    """The outside system a webhook step calls: records each call by its idempotency key."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

        async def hook(request: Request) -> JSONResponse:
            self.calls.append((request.headers["idempotency-key"], await request.json()))
            return JSONResponse({"ok": True})

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock(MORNING)


@pytest.fixture(autouse=True)
def morning(clock):
    """Every test starts on a weekday morning in Shanghai, whatever the previous one did."""
    clock.set(MORNING)


@pytest.fixture(scope="session")
def receiver() -> FakeReceiver:
    return FakeReceiver()


@pytest.fixture(scope="session")
async def journeys_app(infrastructure, clock, receiver) -> AsyncIterator:
    settings = JourneysSettings(
        **infrastructure.settings().model_dump(),
        relay_interval_seconds=0.2,
        step_poll_seconds=3600,  # tests run the workers themselves
        delivery_poll_seconds=3600,
    )
    await asyncio.to_thread(upgrade, "journeys", MIGRATIONS_DIR, settings)
    webhook = WebhookSender(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app), base_url="http://hooks")
    )
    app = create_app(settings, clock=clock, senders=development_senders(webhook))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def steps(journeys_app, clock) -> StepWorker:
    return StepWorker(journeys_app.state.database, clock=clock)


@pytest.fixture
def deliveries(journeys_app, clock) -> DeliveryWorker:
    app = journeys_app
    return DeliveryWorker(
        app.state.database, clock=clock, senders=app.state.senders, rules=app.state.delivery_rules
    )


class JourneysClient(ServiceClient):
    """Calls journeys as a given caller, the way the gateway would."""

    service = "journeys"

    async def ok(self, method: str, url: str, expected: int = 200, **kwargs):
        response = await self.http.request(method, url, **kwargs)
        assert response.status_code == expected, response.text
        return response.json()

    async def activate(self, spec: dict) -> dict:
        """Creates a journey and activates its first version."""
        created = await self.ok("POST", "/definitions", 201, json=spec)
        return await self.ok(
            "POST", f"/definitions/{created['key']}/versions/1/transitions", json={"to": "active"}
        )

    async def archive(self, key: str) -> None:
        for version in await self.ok("GET", f"/definitions/{key}/versions"):
            if version["status"] != "archived":
                await self.ok(
                    "POST",
                    f"/definitions/{key}/versions/{version['version']}/transitions",
                    json={"to": "archived"},
                )

    async def install(self, template: str, key: str) -> dict:
        await self.ok(
            "POST", "/definitions/from-template", 201, json={"template": template, "key": key}
        )
        return await self.ok(
            "POST", f"/definitions/{key}/versions/1/transitions", json={"to": "active"}
        )

    async def inbox(self) -> list[dict]:
        return (await self.ok("GET", "/messages"))["items"]


@pytest.fixture
def client_as(journeys_app):
    def make(caller: Caller | None) -> JourneysClient:
        return JourneysClient(journeys_app, caller)

    return make


@pytest.fixture
def marketer(client_as) -> JourneysClient:
    return client_as(MARKETER)


@pytest.fixture
def agent(client_as) -> JourneysClient:
    return client_as(AGENT)


def owner_caller(owner_id: uuid.UUID) -> Caller:
    return Caller(kind=CallerKind.OWNER, subject=str(owner_id), owner_id=owner_id)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def message_journey(
    key: str,
    *,
    category: str = "marketing",
    channels=("app_push",),
    audience: dict | None = None,
    **extra,
) -> dict:
    """A one-off-run journey with one message step, on a shipped template."""
    spec = {
        "key": key,
        "name": key,
        "category": category,
        "trigger": {"type": "audience"},
        "reentry": {"mode": "always"},
        "steps": [
            {
                "id": "hello",
                "type": "message",
                "template": "onboarding_tips",
                "channels": list(channels),
            }
        ],
    }
    if audience is not None:
        spec["audience"] = audience
    return spec | extra


@pytest.fixture(scope="session")
async def publisher(infrastructure, journeys_app) -> AsyncIterator[Publish]:
    """Publishes other services' events to real NATS, as their outbox relays would."""
    streams = ("profile", "feedback", "tickets", "telematics")
    async with event_publisher(infrastructure.nats_url, "journeys", streams) as publish:
        yield publish


async def handled(app, consumer: str, *envelopes: Envelope) -> bool:
    return await inbox_holds(app, f"journeys_{consumer}", *envelopes)


async def deliver(app, publish, consumer: str, *events: Event) -> list[Envelope]:
    """Publishes events and waits until journeys has applied them all."""
    envelopes = [await publish(event) for event in events]
    await eventually(lambda: handled(app, consumer, *envelopes))
    return envelopes


async def scalar(app, sql: str, **params):
    async with app.state.database.transaction() as session:
        return await session.scalar(text(sql), params)


async def rows(app, sql: str, **params) -> list:
    async with app.state.database.transaction() as session:
        return list((await session.execute(text(sql), params)).mappings())


async def make_owner(
    app,
    publish,
    *,
    segments=(),
    marketing=("app_push",),
    language="en",
    vehicle: bool = False,
    delivered: date | None = None,
    dealer_id: uuid.UUID | None = None,
) -> dict:
    """An owner journeys knows of, as profile's events would describe them."""
    owner_id, moment = uuid.uuid4(), datetime(2026, 1, 1, tzinfo=UTC)
    events: list[tuple[str, Event]] = [
        (
            "owner_registered",
            OwnerRegistered(owner_id=owner_id, preferred_language=language, dealer_id=dealer_id),
        ),
    ]
    events += [
        (
            "segment_changed",
            SegmentMembershipChanged(
                owner_id=owner_id, segment_key=segment, entered=True, changed_at=moment
            ),
        )
        for segment in segments
    ]
    events += [
        (
            "consent_changed",
            ConsentChanged(
                owner_id=owner_id,
                purpose="marketing",
                channel=channel,
                granted=True,
                notice_version="1",
                source="app",
                changed_at=moment,
            ),
        )
        for channel in marketing
    ]
    owner = {"owner_id": owner_id}
    if vehicle or delivered:
        vehicle_id, vin = uuid.uuid4(), uuid.uuid4().hex[:17].upper()
        events.append(
            (
                "vehicle_registered",
                VehicleRegistered(
                    vehicle_id=vehicle_id,
                    vin=vin,
                    model="ES6",
                    owner_id=owner_id,
                    delivery_date=delivered,
                    servicing_dealer_id=dealer_id,
                ),
            )
        )
        owner |= {"vehicle_id": vehicle_id, "vin": vin}
    for consumer, event in events:
        await deliver(app, publish, consumer, event)
    return owner
