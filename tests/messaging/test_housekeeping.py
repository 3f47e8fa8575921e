import uuid

from sqlalchemy import text

from shared.messaging.housekeeping import prune
from tests.messaging.harness import fresh_database, messaging_metadata


async def test_prune_drops_old_published_events_and_keeps_unpublished_ones(infrastructure):
    database = await fresh_database(
        infrastructure.settings(), f"prune_{uuid.uuid4().hex[:6]}", messaging_metadata(False)
    )
    insert = text(
        "INSERT INTO outbox (id, subject, envelope, published_at) "
        "VALUES (:id, 'cem.t.x.y.v1', '{}', now() - make_interval(days => :age))"
    )
    async with database.transaction() as session:
        await session.execute(insert, {"id": uuid.uuid4(), "age": 30})  # old, published
        await session.execute(insert, {"id": uuid.uuid4(), "age": 1})  # recent, published
        await session.execute(
            text("INSERT INTO outbox (id, subject, envelope) VALUES (:id, 'cem.t.x.y.v1', '{}')"),
            {"id": uuid.uuid4()},
        )
        await session.execute(
            text(
                "INSERT INTO inbox (consumer, event_id, handled_at) "
                "VALUES ('c', :id, now() - interval '60 days')"
            ),
            {"id": uuid.uuid4()},
        )
    await prune(database)
    async with database.transaction() as session:
        remaining = await session.scalar(text("SELECT count(*) FROM outbox"))
        unpublished = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        )
        inbox = await session.scalar(text("SELECT count(*) FROM inbox"))
    await database.dispose()
    assert (remaining, unpublished, inbox) == (2, 1, 0)
