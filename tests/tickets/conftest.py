"""The tickets service in-process, on its own migrated database and real NATS, with a clock
that tests move (so SLA breaches need no waiting).

Configuration is shared by the whole session's database: the standard SLA policies are
created once here, and tests that add routing rules match them on a category of their own.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from services.tickets.config import MIGRATIONS_DIR, TicketsSettings
from services.tickets.main import create_app
from services.tickets.timers import SlaWorker
from shared.auth import Caller, CallerKind, StaffRole
from shared.messaging.envelope import Envelope
from shared.migrations import upgrade
from tests.helpers import FakeClock, Publish, ServiceClient, event_publisher, inbox_holds

ADMIN = Caller(kind=CallerKind.STAFF, subject="admin@test", roles=frozenset({StaffRole.ADMIN}))
AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))
# Monday 2 March 2026, 09:00 in Shanghai.
MONDAY_9AM_SHANGHAI = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

STANDARD_POLICIES = [
    # The scenario-1 promise: a high-priority complaint gets a first answer in 30 minutes.
    {"name": "Urgent complaints", "kind": "complaint", "priority": "high",
     "first_response_minutes": 30, "resolution_minutes": 8 * 60},
    # Leads are followed up in dealer business hours.
    {"name": "Leads", "kind": "lead_follow_up", "first_response_minutes": 60,
     "resolution_minutes": 5 * 24 * 60, "business_hours": True},
    {"name": "Everything else", "first_response_minutes": 4 * 60,
     "resolution_minutes": 3 * 24 * 60},
]  # fmt: skip


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock(MONDAY_9AM_SHANGHAI)


@pytest.fixture(scope="session")
async def tickets_app(infrastructure, clock) -> AsyncIterator:
    settings = TicketsSettings(
        **infrastructure.settings().model_dump(),
        relay_interval_seconds=0.2,
        sla_poll_seconds=3600,  # tests fire timers themselves, with `sla_worker`
    )
    await asyncio.to_thread(upgrade, "tickets", MIGRATIONS_DIR, settings)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        admin = TicketsClient(app, ADMIN)
        for policy in STANDARD_POLICIES:
            response = await admin.post("/sla-policies", json=policy)
            assert response.status_code in (201, 409), response.text
        yield app


@pytest.fixture
def sla_worker(tickets_app, clock) -> SlaWorker:
    return SlaWorker(tickets_app.state.database, clock=clock)


class TicketsClient(ServiceClient):
    """Calls tickets as a given caller, the way the gateway would."""

    service = "tickets"

    async def open(self, expected: int = 201, **fields) -> dict:
        body = {"kind": "complaint", "subject": "Smart key fails", "description": "Again."}
        response = await self.post("/tickets", json=body | fields)
        assert response.status_code == expected, response.text
        return response.json()

    async def move(self, ticket_id: str, to: str, reason: str | None = None) -> httpx.Response:
        return await self.post(
            f"/tickets/{ticket_id}/transitions", json={"to": to, "reason": reason}
        )


@pytest.fixture
def client_as(tickets_app):
    def make(caller: Caller | None) -> TicketsClient:
        return TicketsClient(tickets_app, caller)

    return make


@pytest.fixture
def admin(client_as) -> TicketsClient:
    return client_as(ADMIN)


@pytest.fixture
def agent(client_as) -> TicketsClient:
    return client_as(AGENT)


def new_dealer() -> Caller:
    dealer_id = uuid.uuid4()
    return Caller(kind=CallerKind.DEALER, subject=str(dealer_id), dealer_id=dealer_id)


def new_owner() -> Caller:
    owner_id = uuid.uuid4()
    return Caller(kind=CallerKind.OWNER, subject=str(owner_id), owner_id=owner_id)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def outbox_count(app) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(text("SELECT count(*) FROM outbox"))


async def events_for(app, ticket_id: str, *, since: int = 0) -> list[dict]:
    """Envelopes about one case, oldest first (other tests' events are left out)."""
    async with app.state.database.transaction() as session:
        rows = await session.scalars(
            text(
                "SELECT envelope FROM outbox WHERE seq > :since AND envelope->>'subject' = :id "
                "ORDER BY seq"
            ),
            {"since": since, "id": ticket_id},
        )
        return list(rows)


async def last_seq(app) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(text("SELECT coalesce(max(seq), 0) FROM outbox"))


@pytest.fixture(scope="session")
async def publisher(infrastructure, tickets_app) -> AsyncIterator[Publish]:
    """Publishes other services' events to real NATS, as their outbox relays would."""
    streams = ("profile", "feedback", "journeys", "telematics")
    async with event_publisher(infrastructure.nats_url, "tickets", streams) as publish:
        yield publish


async def handled(app, consumer: str, *envelopes: Envelope) -> bool:
    """Whether the consumer's inbox holds every one of these events (so it has applied them)."""
    return await inbox_holds(app, f"tickets_{consumer}", *envelopes)


async def scalar(app, sql: str, **params):
    async with app.state.database.transaction() as session:
        return await session.scalar(text(sql), params)
