"""What clients do to each service while it is restarted (tests/deploy/test_shutdown.py).

Each workload writes as a client that may repeat itself would: a PUT, or a POST carrying an
`Idempotency-Key`, so the gateway may resend it should a connection break under it. It reads
between writes, and afterwards tells which accepted writes it cannot find.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from cli.launcher import Platform
from shared.auth import CallerKind, StaffRole
from shared.database import Database, service_url
from tests.e2e.conftest import bearer
from tests.e2e.support import dealer_in, known_to_telematics, ok, owner_with_car
from tests.helpers import eventually

ADMIN = bearer(CallerKind.STAFF, "shutdown@cem.test", StaffRole.ADMIN)


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    body: dict | list
    name: str  # what names the write when it is looked for afterwards


@dataclass
class Workload:
    service: str
    read_path: str
    make_write: Callable[[int], Write]
    # Where an accepted write (with the answer to it) can be read back.
    stored_at: Callable[[Write, dict], str] = lambda write, answer: ""
    writer: CallerKind = CallerKind.STAFF
    accepted: list[tuple[Write, dict]] = field(default_factory=list)

    def credentials(self) -> dict[str, str]:
        return caller_of_its_own(self.writer)

    async def prepare(self, gateway: httpx.AsyncClient) -> None:
        """Whatever must exist before the first write."""

    def write(self, number: int) -> Write:
        return self.make_write(number)

    async def missing(self, gateway: httpx.AsyncClient, platform: Platform) -> list[str]:
        """The accepted writes that cannot be read back."""
        missing = []
        for write, answer in self.accepted:
            response = await gateway.get(self.stored_at(write, answer), headers=ADMIN)
            if response.status_code != 200:
                missing.append(write.name)
        return missing


def caller_of_its_own(kind: CallerKind = CallerKind.STAFF) -> dict[str, str]:
    """A client's own credentials (an admin's, for staff): rate limits are per caller."""
    roles = (StaffRole.ADMIN,) if kind == CallerKind.STAFF else ()
    return bearer(kind, f"load-{uuid.uuid4().hex[:8]}@cem.test", *roles)


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def dealers() -> Workload:
    def write(number: int) -> Write:
        code = _unique("S")
        body = {"code": code, "name": f"Dealer {code}", "city": "Wuhan", "region": "Central"}
        return Write("POST", "/v1/profile/dealers", body, code)

    return Workload("profile", "/v1/profile/dealers?limit=5", write,
                    lambda write, answer: f"/v1/profile/dealers/{answer['id']}")  # fmt: skip


def surveys() -> Workload:
    def write(number: int) -> Write:
        key = _unique("shutdown_")
        question = {"id": "score", "type": "nps",
                    "text": {"en": "Would you recommend us?", "zh": "您会推荐我们吗"}}  # fmt: skip
        title = {"en": "Restart", "zh": "重启"}
        body = {"key": key, "kind": "nps", "title": title, "questions": [question]}
        return Write("POST", "/v1/feedback/surveys", body, key)

    return Workload("feedback", "/v1/feedback/surveys?limit=5", write,
                    lambda write, answer: f"/v1/feedback/surveys/{write.name}")  # fmt: skip


def tickets() -> Workload:
    def write(number: int) -> Write:
        subject = _unique("Restart question ")
        body = {"kind": "inquiry", "subject": subject, "description": "Asked during a restart."}
        return Write("POST", "/v1/tickets/tickets", body, subject)

    return Workload("tickets", "/v1/tickets/tickets?limit=5", write,
                    lambda write, answer: f"/v1/tickets/tickets/{answer['id']}")  # fmt: skip


class MessageTemplates(Workload):
    """Templates are listed, not read one by one."""

    def __init__(self) -> None:
        super().__init__("journeys", "/v1/journeys/message-templates", self._put)

    @staticmethod
    def _put(number: int) -> Write:
        key = _unique("shutdown_")
        body = {"variants": {"en": {"title": f"Note {number}", "body": "Written in a restart."}}}
        return Write("PUT", f"/v1/journeys/message-templates/{key}", body, key)

    async def missing(self, gateway, platform) -> list[str]:
        listed = str(ok(await gateway.get(self.read_path, headers=ADMIN)))
        return [write.name for write, _ in self.accepted if write.name not in listed]


class Signals(Workload):
    """A parked car reporting once per write, at a second of its own; the samples are read
    back from telematics' own table (no route lists raw samples)."""

    def __init__(self) -> None:
        super().__init__("telematics", "", self._sample, writer=CallerKind.SERVICE)
        self.vin = ""
        self.start = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)

    async def prepare(self, gateway) -> None:
        dealer = await dealer_in(gateway, "Wuhan", region="Central")
        self.vin = (await owner_with_car(gateway, dealer)).vin
        self.read_path = f"/v1/telematics/vehicles/{self.vin}"
        await known_to_telematics(gateway, self.vin)

    def _sample(self, number: int) -> Write:
        at = (self.start + timedelta(seconds=number)).isoformat()
        signals = {"Vehicle.Speed": 0.0, "Vehicle.TraveledDistance": 1_000_000.0 + number}
        sample = {"vin": self.vin, "ts": at, "signals": signals}
        return Write("POST", "/v1/telematics/signals", [sample], at)

    async def missing(self, gateway, platform) -> list[str]:
        stored = (
            "SELECT s.ts FROM signals s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.vin = :vin"
        )
        async with service_database(platform, "telematics") as database:
            async with database.transaction() as session:
                moments = set(await session.scalars(text(stored), {"vin": self.vin}))
        return [
            write.name
            for write, _ in self.accepted
            if datetime.fromisoformat(write.name) not in moments
        ]


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "profile": dealers,
    "feedback": surveys,
    "tickets": tickets,
    "telematics": Signals,
    "journeys": MessageTemplates,
}


class service_database:
    """The service's own database, as the platform's processes reach it."""

    def __init__(self, platform: Platform, service: str) -> None:
        self.database = Database(service_url(platform._settings(), service), pool_size=1)

    async def __aenter__(self) -> Database:
        return self.database

    async def __aexit__(self, *exc_info: object) -> None:
        await self.database.dispose()


async def outbox_drained(platform: Platform, service: str) -> None:
    """Every event the service committed has been published."""

    async def drained() -> bool:
        async with service_database(platform, service) as database:
            async with database.transaction() as session:
                return not await session.scalar(
                    text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                )

    await eventually(drained, within_seconds=30)
