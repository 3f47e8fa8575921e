"""Work registered with `before_commit` runs once, inside the transaction, just before it
commits: a failure there rolls the whole transaction back."""

import uuid

import pytest
from sqlalchemy import text

from shared.database import Database, before_commit, server_url


@pytest.fixture
async def database(infrastructure):
    database = Database(server_url(infrastructure.settings()))
    table = f"before_commit_{uuid.uuid4().hex[:8]}"
    async with database.engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE {table} (note text NOT NULL)"))
    yield database, table
    async with database.engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE {table}"))
    await database.dispose()


async def notes(database: Database, table: str) -> list[str]:
    async with database.transaction() as session:
        return list(await session.scalars(text(f"SELECT note FROM {table} ORDER BY note")))


async def test_work_registered_many_times_under_a_key_runs_once_before_commit(database):
    database, table = database
    runs: list[list[str]] = []

    async def summarise(session) -> None:
        seen = list(await session.scalars(text(f"SELECT note FROM {table} ORDER BY note")))
        runs.append(seen)
        await session.execute(text(f"INSERT INTO {table} VALUES ('summary')"))

    async with database.transaction() as session:
        for note in ("a", "b", "c"):
            await session.execute(text(f"INSERT INTO {table} VALUES (:note)"), {"note": note})
            before_commit(session, "summary", summarise)
        assert runs == []  # not yet: the block has not ended

    assert runs == [["a", "b", "c"]]  # once, after every write of the block
    assert await notes(database, table) == ["a", "b", "c", "summary"]


async def test_work_may_register_more_work(database):
    database, table = database

    async def second(session) -> None:
        await session.execute(text(f"INSERT INTO {table} VALUES ('second')"))

    async def first(session) -> None:
        await session.execute(text(f"INSERT INTO {table} VALUES ('first')"))
        before_commit(session, "second", second)

    async with database.transaction() as session:
        before_commit(session, "first", first)

    assert await notes(database, table) == ["first", "second"]


async def test_a_failure_before_commit_rolls_the_transaction_back(database):
    database, table = database

    async def fails(session) -> None:
        raise RuntimeError("the summary cannot be computed")

    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await session.execute(text(f"INSERT INTO {table} VALUES ('lost')"))
            before_commit(session, "summary", fails)

    assert await notes(database, table) == []
