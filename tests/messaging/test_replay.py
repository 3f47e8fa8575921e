"""Dead letters too old to replay safely are left alone."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from shared.messaging.broker import connect, ensure_stream
from shared.messaging.envelope import Envelope
from shared.messaging.replay import list_dead_letters, replay_dead_letters
from tests.messaging.harness import (
    PRODUCER,
    ThingHappened,
    fresh_database,
    messaging_metadata,
)


async def test_a_dead_letter_older_than_the_inbox_memory_is_not_replayed(
    infrastructure, private_nats
):
    database = await fresh_database(
        infrastructure.settings(), f"replay_{uuid.uuid4().hex[:6]}", messaging_metadata(False)
    )
    client = await connect(private_nats.url, name="test-replay")
    await ensure_stream(client, PRODUCER)
    insert = text(
        "INSERT INTO dead_letters (consumer, subject, event_id, payload, reason, deliveries) "
        "VALUES ('c_apply', :subject, :event_id, :payload, 'failed: boom', 5) RETURNING id"
    )
    ids = {}
    async with database.transaction() as session:
        for age in ("recent", "ancient"):
            envelope = Envelope.wrap(ThingHappened(number=1)).model_copy(
                update={"time": datetime.now(UTC) - timedelta(days=1 if age == "recent" else 20)}
            )
            ids[age] = await session.scalar(
                insert,
                {
                    "subject": envelope.type,
                    "event_id": str(envelope.id),
                    "payload": envelope.model_dump_json(),
                },
            )
    outcome = await replay_dead_letters(database, client.jetstream())
    waiting = await list_dead_letters(database)
    await client.close()
    await database.dispose()
    assert (outcome.replayed, outcome.too_old) == ([ids["recent"]], [ids["ancient"]])
    assert [letter.id for letter in waiting] == [ids["ancient"]]
