"""The telematics service in-process, on its own migrated database and real NATS, with a clock
that tests move and workers that tests run (so derivation and retention need no waiting).

Vehicles are learnt the way production learns them: profile's events through the broker.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from services.telematics.config import MIGRATIONS_DIR, TelematicsSettings
from services.telematics.main import create_app
from services.telematics.workers import DerivationWorker, RetentionWorker
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import ComponentBatch, ConsentChanged, VehicleRegistered
from shared.messaging.envelope import Envelope
from shared.migrations import upgrade
from tests.helpers import (
    FakeClock,
    Publish,
    ServiceClient,
    event_publisher,
    eventually,
    inbox_holds,
)

GATEWAY = Caller(kind=CallerKind.SERVICE, subject="vehicle-gateway")
ADMIN = Caller(kind=CallerKind.STAFF, subject="admin@test", roles=frozenset({StaffRole.ADMIN}))
QUALITY = Caller(
    kind=CallerKind.STAFF, subject="quality@test", roles=frozenset({StaffRole.QUALITY_ENGINEER})
)
AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))
# Monday 2 March 2026, 09:00 in Shanghai.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
async def telematics_app(infrastructure, clock) -> AsyncIterator:
    settings = TelematicsSettings(
        **infrastructure.settings().model_dump(),
        relay_interval_seconds=0.2,
        # Tests run the workers themselves, in this process.
        derivation_poll_seconds=3600,
        derivation_processes=0,
        quality_interval_seconds=3600,
        retention_interval_seconds=3600,
        max_batch_samples=2000,
    )
    await asyncio.to_thread(upgrade, "telematics", MIGRATIONS_DIR, settings)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def derive(telematics_app, clock):
    async def run() -> int:
        worker = DerivationWorker(
            telematics_app.state.database, telematics_app.state.settings, clock
        )
        return await worker.run_once()

    return run


@pytest.fixture
def retention(telematics_app, clock) -> RetentionWorker:
    return RetentionWorker(telematics_app.state.database, telematics_app.state.settings, clock)


class TelematicsClient(ServiceClient):
    """Calls telematics as a given caller, the way the gateway would."""

    service = "telematics"

    async def send(self, samples: list[dict], expected: int = 200) -> dict:
        response = await self.post("/signals", json=samples)
        assert response.status_code == expected, response.text
        return response.json()


@pytest.fixture
def client_as(telematics_app):
    def make(caller: Caller | None) -> TelematicsClient:
        return TelematicsClient(telematics_app, caller)

    return make


@pytest.fixture
def gateway(client_as) -> TelematicsClient:
    return client_as(GATEWAY)


def new_dealer() -> Caller:
    dealer_id = uuid.uuid4()
    return Caller(kind=CallerKind.DEALER, subject=str(dealer_id), dealer_id=dealer_id)


def new_owner() -> Caller:
    owner_id = uuid.uuid4()
    return Caller(kind=CallerKind.OWNER, subject=str(owner_id), owner_id=owner_id)


def new_vin() -> str:
    return "LTEST" + uuid.uuid4().hex[:12].upper()


@pytest.fixture(scope="session")
async def publisher(infrastructure, telematics_app) -> AsyncIterator[Publish]:
    """Publishes profile's events to real NATS, as its outbox relay would."""
    streams = ("profile",)
    async with event_publisher(infrastructure.nats_url, "telematics", streams) as publish:
        yield publish


async def handled(app, consumer: str, *envelopes: Envelope) -> bool:
    return await inbox_holds(app, f"telematics_{consumer}", *envelopes)


async def scalar(app, sql: str, **params):
    async with app.state.database.transaction() as session:
        return await session.scalar(text(sql), params)


async def rows(app, sql: str, **params) -> list:
    async with app.state.database.transaction() as session:
        return (await session.execute(text(sql), params)).all()


async def events(app, subject_type: str, vehicle_id) -> list[dict]:
    """The data of outbox events of one type about one subject, oldest first."""
    async with app.state.database.transaction() as session:
        found = await session.scalars(
            text(
                "SELECT envelope FROM outbox WHERE subject = :type "
                "AND envelope->>'subject' = :id ORDER BY seq"
            ),
            {"type": subject_type, "id": str(vehicle_id)},
        )
        return [envelope["data"] for envelope in found]


@pytest.fixture
def register(telematics_app, publisher):
    """Registers vehicles through profile's events; returns when telematics has learnt them."""

    async def make(
        count: int = 1,
        *,
        owner: Caller | None = None,
        dealer: Caller | None = None,
        components: list[ComponentBatch] | None = None,
        location_consent: bool = False,
    ) -> list[VehicleRegistered]:
        vehicles = [
            VehicleRegistered(
                vehicle_id=uuid.uuid4(),
                vin=new_vin(),
                model="EV6",
                delivery_date=date(2025, 3, 1),
                owner_id=owner.owner_id if owner else None,
                selling_dealer_id=dealer.dealer_id if dealer else None,
                components=components or [],
            )
            for _ in range(count)
        ]
        envelopes = [await publisher(vehicle) for vehicle in vehicles]
        if owner and location_consent:
            consent = ConsentChanged(
                owner_id=owner.owner_id,
                purpose="location",
                channel="any",
                granted=True,
                notice_version="v1",
                source="app",
                changed_at=START - timedelta(days=1),
            )
            envelope = await publisher(consent)
            await eventually(lambda: handled(telematics_app, "consent_changed", envelope))
        await eventually(lambda: handled(telematics_app, "vehicle_registered", *envelopes))
        return vehicles

    return make


def drive(
    vin: str,
    start: datetime,
    *,
    seconds: int,
    speed: float = 36.0,
    odometer_m: float = 10_000_000.0,
    extra: dict | None = None,
) -> list[dict]:
    """One sample a second at a constant speed (km/h), the odometer following it."""
    return [
        {
            "vin": vin,
            "ts": (start + timedelta(seconds=second)).isoformat(),
            "signals": {
                "Vehicle.Speed": speed,
                "Vehicle.TraveledDistance": odometer_m + speed / 3.6 * second,
                **(extra or {}),
            },
        }
        for second in range(seconds)
    ]


def parked(vin: str, start: datetime, *, seconds: int, odometer_m: float, step: int = 30):
    return [
        {
            "vin": vin,
            "ts": (start + timedelta(seconds=second)).isoformat(),
            "signals": {"Vehicle.Speed": 0.0, "Vehicle.TraveledDistance": odometer_m},
        }
        for second in range(0, seconds, step)
    ]
