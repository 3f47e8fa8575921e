"""A service claims an `Idempotency-Key` in the transaction of the request's effect
(shared/idempotency/claims.py): requests sent straight to a real service, as the gateway's
resend after a broken connection would."""

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from shared.database import Database, application_url
from shared.idempotency import claims
from shared.idempotency.claims import purge_old_answers
from shared.migrations import upgrade
from tests.helpers import eventually, running
from tests.shared.support import COMPLAINT, TicketsClient, keyed_tickets_app, new_owner


@pytest.fixture(scope="module")
async def tickets(infrastructure) -> AsyncIterator:
    app = await keyed_tickets_app(infrastructure)
    async with running(app):
        yield app


@pytest.fixture
def owner(tickets) -> TicketsClient:
    return TicketsClient(tickets, new_owner())


def new_key() -> str:
    return f"order-{uuid.uuid4().hex[:8]}"


async def test_the_same_keyed_post_twice_creates_once_and_the_repeat_gets_the_first_answer(
    owner,
):
    key = new_key()
    first = await owner.open(key)
    again = await owner.open(key)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await owner.ticket_ids() == [first.json()["id"]]


async def test_the_same_key_with_another_body_is_refused_and_changes_nothing(owner):
    key = new_key()
    first = await owner.open(key)
    other = await owner.open(key, {**COMPLAINT, "subject": "Another matter"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await owner.ticket_ids() == [first.json()["id"]]


async def test_concurrent_copies_create_once(owner):
    key = new_key()
    answers = await asyncio.gather(*(owner.open(key) for _ in range(4)))
    assert [answer.status_code for answer in answers] == [201] * 4
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert await owner.ticket_ids() == [answers[0].json()["id"]]


async def test_two_callers_keys_never_collide(tickets, owner):
    key = new_key()
    other = TicketsClient(tickets, new_owner())
    mine, theirs = await owner.open(key), await other.open(key)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert await owner.ticket_ids() == [mine.json()["id"]]
    assert await other.ticket_ids() == [theirs.json()["id"]]


async def test_a_request_without_a_key_is_unchanged_and_never_reads_the_table(tickets, owner):
    with statements(tickets) as executed:
        first, second = await owner.open(None), await owner.open(None)
    assert (first.status_code, second.status_code) == (201, 201)
    assert len(set(await owner.ticket_ids())) == 2
    assert executed and not [s for s in executed if "idempotent_requests" in s]


async def test_an_applied_request_whose_answer_was_lost_is_a_conflict(tickets, owner, monkeypatch):
    """As if the service died between the commit and recording the answer."""
    monkeypatch.setattr(claims, "WAIT_FOR_ANSWER_SECONDS", 0.3)
    key = new_key()
    first = await owner.open(key)
    await set_answers(tickets, "status = NULL, body = NULL", key)
    again = await owner.open(key)
    assert again.status_code == 409
    problem = again.json()
    assert problem["code"] == "idempotency_answer_unavailable"
    assert "already applied" in problem["detail"] and "not available" in problem["detail"]
    assert await owner.ticket_ids() == [first.json()["id"]]


async def test_answers_older_than_a_day_are_purged_and_the_key_is_free_again(
    tickets, owner, monkeypatch
):
    monkeypatch.setattr("shared.idempotency.PURGE_EVERY_SECONDS", 0.05)
    key = new_key()
    first = await owner.open(key)
    await set_answers(tickets, "created_at = now() - interval '25 hours'", key)
    purging = asyncio.create_task(purge_old_answers(tickets.state.database))
    try:
        await eventually(lambda: kept_answers(tickets, key, 0), within_seconds=30)
    finally:
        purging.cancel()
    again = await owner.open(key)
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]


@pytest.mark.parametrize("service", ["profile", "feedback", "tickets", "telematics", "journeys"])
async def test_every_service_keeps_idempotent_requests_for_the_application_role(
    infrastructure, service
):
    settings = infrastructure.settings()
    config = importlib.import_module(f"services.{service}.config")
    await asyncio.to_thread(upgrade, service, config.MIGRATIONS_DIR, settings)
    database = Database(application_url(settings, service), pool_size=1)
    try:
        async with database.transaction() as session:
            granted = await session.scalar(
                text(
                    "SELECT bool_and(has_table_privilege('idempotent_requests', privilege)) "
                    "FROM unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) privilege"
                )
            )
    finally:
        await database.dispose()
    assert granted


@contextmanager
def statements(app):
    executed: list[str] = []
    engine = app.state.database.engine.sync_engine

    def record(conn, cursor, statement, *args) -> None:
        executed.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield executed
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def set_answers(app, assignments: str, key: str) -> None:
    async with app.state.database.transaction() as session:
        await session.execute(
            text(f"UPDATE idempotent_requests SET {assignments} WHERE key = :key"), {"key": key}
        )


async def kept_answers(app, key: str, expected: int) -> bool:
    async with app.state.database.transaction() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM idempotent_requests WHERE key = :key"), {"key": key}
        )
    return count == expected
