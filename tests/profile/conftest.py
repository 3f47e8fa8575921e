"""The profile service in-process, on its own migrated database and real NATS."""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from services.profile.config import MIGRATIONS_DIR, ProfileSettings
from services.profile.domain import vin_problem
from services.profile.main import create_app
from shared.auth import Caller, CallerKind, StaffRole
from shared.messaging.envelope import Envelope
from shared.migrations import upgrade
from tests.helpers import Publish, ServiceClient, event_publisher, inbox_holds

ADMIN = Caller(kind=CallerKind.STAFF, subject="admin@test", roles=frozenset({StaffRole.ADMIN}))
_serials = itertools.count(100000 + uuid.uuid4().int % 800000)


def make_vin() -> str:
    """A fresh VIN whose check digit is right."""
    body = f"LRW3E7EK{{}}NC{next(_serials):06d}"
    for digit in "0123456789X":
        vin = body.format(digit)
        if vin_problem(vin) is None:
            return vin
    raise AssertionError("unreachable: one check digit always fits")


@pytest.fixture(scope="session")
async def profile_app(infrastructure) -> AsyncIterator:
    settings = ProfileSettings(**infrastructure.settings().model_dump(), relay_interval_seconds=0.2)
    await asyncio.to_thread(upgrade, "profile", MIGRATIONS_DIR, settings)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


class ProfileClient(ServiceClient):
    """Calls profile as a given caller, the way the gateway would."""

    service = "profile"


@pytest.fixture
def client_as(profile_app):
    def make(caller: Caller | None) -> ProfileClient:
        return ProfileClient(profile_app, caller)

    return make


@pytest.fixture
def admin(client_as) -> ProfileClient:
    return client_as(ADMIN)


async def create_dealer(admin: ProfileClient, *, region: str = "East") -> Caller:
    code = f"D{uuid.uuid4().hex[:8]}"
    response = await admin.post(
        "/dealers",
        json={"code": code, "name": f"Dealer {code}", "city": "Shanghai", "region": region},
    )
    assert response.status_code == 201, response.text
    dealer_id = uuid.UUID(response.json()["id"])
    return Caller(kind=CallerKind.DEALER, subject=str(dealer_id), dealer_id=dealer_id)


@pytest.fixture
async def dealer_a(admin) -> Caller:
    return await create_dealer(admin)


@pytest.fixture
async def dealer_b(admin) -> Caller:
    return await create_dealer(admin)


def dms_batch(*, owner_ref: str = "C1", vin: str | None = None) -> dict:
    vin = vin or make_vin()
    return {
        "owners": [
            {
                "external_id": owner_ref,
                "full_name": "Li Wei",
                "email": "li.wei@example.com",
                "phone": "+86 138 0000 0000",
                "city": "Shanghai",
                "preferred_language": "zh",
            }
        ],
        "vehicles": [
            {
                "vin": vin,
                "model": "ET7",
                "trim": "Premium",
                "owner_external_id": owner_ref,
                "production_date": "2025-03-02",
                "delivery_date": "2025-05-20",
                "components": [
                    {
                        "component": "cooling_fan_controller",
                        "part_number": "CFC-100",
                        "batch_code": "B2025-03",
                    }
                ],
            }
        ],
        "orders": [
            {
                "external_id": f"O-{owner_ref}",
                "owner_external_id": owner_ref,
                "model": "ET7",
                "vin": vin,
                "status": "in_transit",
                "status_changed_at": "2025-05-01T08:00:00Z",
            }
        ],
        "service_visits": [
            {
                "external_id": f"V-{owner_ref}",
                "vin": vin,
                "visit_type": "maintenance",
                "visit_date": "2026-05-20",
                "mileage_km": 15000,
                "cost": "420.00",
                "parts": [
                    {"component": "cabin_filter", "part_number": "CF-1", "batch_code": "F-22"}
                ],
            }
        ],
    }


async def outbox_count(app) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(text("SELECT count(*) FROM outbox"))


async def outbox_types_since(app, count_before: int) -> list[str]:
    async with app.state.database.transaction() as session:
        rows = await session.scalars(
            text("SELECT subject FROM outbox ORDER BY seq OFFSET :skip"), {"skip": count_before}
        )
        return list(rows)


async def create_owner(client: ProfileClient, **fields) -> str:
    body = {"full_name": "Wang Fang", "email": f"{uuid.uuid4().hex[:10]}@example.com"} | fields
    response = await client.post("/owners", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def owner_caller(owner_id: str) -> Caller:
    return Caller(kind=CallerKind.OWNER, subject=owner_id, owner_id=uuid.UUID(owner_id))


async def last_seq(app) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(text("SELECT coalesce(max(seq), 0) FROM outbox"))


async def events_after(app, seq: int, event_type: str) -> list[dict]:
    """The payloads of one event type written after outbox row `seq`, oldest first."""
    async with app.state.database.transaction() as session:
        rows = await session.scalars(
            text("SELECT envelope FROM outbox WHERE seq > :seq AND subject = :type ORDER BY seq"),
            {"seq": seq, "type": event_type},
        )
        return [envelope["data"] for envelope in rows]


@pytest.fixture(scope="session")
async def publisher(infrastructure, profile_app) -> AsyncIterator[Publish]:
    """Publishes other services' events to real NATS, as their outbox relays would."""
    streams = ("feedback", "tickets", "telematics", "journeys")
    async with event_publisher(infrastructure.nats_url, "profile", streams) as publish:
        yield publish


async def handled(app, consumer: str, *envelopes: Envelope) -> bool:
    """Whether profile's consumer has applied every one of these events."""
    return await inbox_holds(app, f"profile_{consumer}", *envelopes)


async def scalar(app, sql: str, **params):
    async with app.state.database.transaction() as session:
        return await session.scalar(text(sql), params)


@contextmanager
def state_replaced(app, name: str, value) -> Iterator[None]:
    """The app holds `value` as `app.state.<name>` until the block ends."""
    original = getattr(app.state, name)
    setattr(app.state, name, value)
    try:
        yield
    finally:
        setattr(app.state, name, original)


def peers_replaced(app, peers):
    """Profile asks these stand-ins, not the other services, until the block ends."""
    return state_replaced(app, "peers", peers)


def settings_replaced(app, **changes):
    """Profile runs with these settings changed (validated as at start) until the block ends."""
    settings = app.state.settings
    changed = type(settings)(**(settings.model_dump() | changes))
    return state_replaced(app, "settings", changed)
