"""Durable timers under a crash and a race: the tickets service's SLA clocks.

A thousand clocks fall due at the same moment; the worker firing them is killed in the
middle, then two workers race for the rest. Each due clock breaches once (one escalation
event), none before its time, and a stopped clock never.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from services.tickets.config import MIGRATIONS_DIR
from services.tickets.models import SlaClockRow, Ticket
from services.tickets.timers import SlaWorker
from shared.config import CommonSettings
from shared.contracts.tickets import TicketSlaBreached
from shared.database import Database, service_url
from shared.migrations import upgrade
from tests.faults.conftest import scaled
from tests.helpers import eventually

DUE = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DUE_TICKETS = scaled(500, 5_000)  # two clocks each: a thousand timers due at once
LATER_TICKETS = 50  # due ten minutes later: must not fire early
STOPPED_TICKETS = 50  # answered in time: their clocks are cancelled, never fire
BREACHED = TicketSlaBreached.event_type.subject


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def tickets_database(settings: CommonSettings):
    prefix = f"{settings.database_prefix}_timers{uuid.uuid4().hex[:4]}"  # a fresh database
    own = settings.model_copy(update={"database_prefix": prefix})
    await asyncio.to_thread(upgrade, "tickets", MIGRATIONS_DIR, own)
    url = service_url(own, "tickets")
    databases = []

    def open_database() -> Database:  # one per worker process, with its own pool
        databases.append(Database(url, pool_size=2))
        return databases[-1]

    yield open_database
    for database in databases:
        await database.dispose()


async def _arm(database: Database, tickets: int, *, due_at: datetime, stopped: bool) -> None:
    cases = [
        Ticket(
            id=uuid.uuid4(), kind="complaint", status="new", priority="normal", channel="app",
            subject="Smart key fails", description="Again.", queue="cx",
            dealer_id=uuid.uuid4(), created_by="faults@test",
        )
        for _ in range(tickets)
    ]  # fmt: skip
    clocks = [
        SlaClockRow(
            ticket_id=case.id, kind=kind, target_seconds=1800,
            running_since=due_at - timedelta(minutes=30), due_at=due_at,
            stopped_at=due_at - timedelta(minutes=1) if stopped else None,
        )
        for case in cases
        for kind in ("first_response", "resolution")
    ]  # fmt: skip
    async with database.transaction() as session:
        session.add_all(cases)
        await session.flush()
        session.add_all(clocks)


async def _count(database: Database, sql: str) -> int:
    async with database.transaction() as session:
        return await session.scalar(text(sql), {"subject": BREACHED})


async def _fire_until_quiet(worker: SlaWorker) -> int:
    """The worker's next polls: a clock skipped because a racer held its case fires later."""
    fired = 0
    while passed := await worker.run_once():
        fired += passed
    return fired


async def test_a_thousand_timers_due_at_once_survive_a_killed_worker_and_a_race(
    tickets_database,
):
    setup = tickets_database()
    await _arm(setup, DUE_TICKETS, due_at=DUE, stopped=False)
    await _arm(setup, LATER_TICKETS, due_at=DUE + timedelta(minutes=10), stopped=False)
    await _arm(setup, STOPPED_TICKETS, due_at=DUE - timedelta(minutes=5), stopped=True)
    clock = Clock(DUE)
    due = DUE_TICKETS * 2

    doomed = asyncio.create_task(SlaWorker(tickets_database(), clock=clock, batch=100).run_once())

    async def first_batch_committed() -> bool:
        return await _count(setup, "SELECT count(*) FROM outbox WHERE subject = :subject") > 0

    await eventually(first_batch_committed)
    doomed.cancel()  # killed with a batch in hand: that batch's transaction rolls back
    await asyncio.gather(doomed, return_exceptions=True)
    fired_before_kill = await _count(setup, "SELECT count(*) FROM outbox WHERE subject = :subject")
    assert 0 < fired_before_kill < due

    racers = [SlaWorker(tickets_database(), clock=clock, batch=50) for _ in range(2)]
    fired_by_racers = await asyncio.gather(*(_fire_until_quiet(racer) for racer in racers))
    assert all(fired_by_racers), f"no race: {fired_by_racers}"
    await _fire_until_quiet(racers[0])

    events = "SELECT count(*) FROM outbox WHERE subject = :subject"
    distinct = (
        "SELECT count(DISTINCT (envelope->'data'->>'ticket_id', envelope->'data'->>'clock')) "
        "FROM outbox WHERE subject = :subject"
    )
    assert await _count(setup, events) == due
    assert await _count(setup, distinct) == due, "a timer fired twice"
    assert await _count(setup, "SELECT count(*) FROM sla_clocks WHERE breached_at < due_at") == 0
    assert await _count(setup, "SELECT count(*) FROM sla_clocks WHERE breached_at IS NOT NULL "
                        "AND stopped_at IS NOT NULL") == 0, "a cancelled timer fired"  # fmt: skip

    clock.now = DUE + timedelta(minutes=10)
    assert await _fire_until_quiet(racers[1]) == LATER_TICKETS * 2
    assert await _count(setup, distinct) == due + LATER_TICKETS * 2
    assert await _count(setup, events) == due + LATER_TICKETS * 2
