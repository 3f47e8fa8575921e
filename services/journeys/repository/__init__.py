"""Every journeys query. Reads are scoped by the caller's owner where an owner asks; writes
flush only. Bulk writes go through Core statements: a campaign touches 100,000 owners."""

import json
import uuid

from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import SQLModel

from services.journeys.repository.base import Running
from services.journeys.repository.contacts import ContactQueries
from services.journeys.repository.instances import InstanceQueries
from services.journeys.repository.recalls import RecallQueries
from services.journeys.repository.reports import ReportQueries
from shared.database import EVENTS_WRITTEN
from shared.messaging.envelope import Envelope, Event
from shared.repository import Repository

__all__ = ["JourneysRepository", "Running"]


class JourneysRepository(Repository, InstanceQueries, ContactQueries, RecallQueries, ReportQueries):
    """Every query, grouped by concern in the mixins; generic writes here."""

    async def insert_many(self, model: type[SQLModel], rows: list[dict]) -> None:
        """New rows by COPY, in the session's transaction: a campaign writes hundreds of
        thousands, and nothing else can hold their freshly made keys."""
        if not rows:
            return
        table = model.__table__
        named = set().union(*rows)
        columns = [c.name for c in table.columns if c.name in named]
        json_columns = {c for c in columns if isinstance(table.c[c].type, JSONB)}
        records = [
            tuple(json.dumps(row[c]) if c in json_columns else row.get(c) for c in columns)
            for row in rows
        ]
        connection = await (await self.session.connection()).get_raw_connection()
        await connection.driver_connection.copy_records_to_table(
            table.name, records=records, columns=columns
        )

    async def record_events(self, events: list[tuple[Event, uuid.UUID | None, str | None]]) -> None:
        """Outbox rows for (event, owner, subject), copied in with the rest of the pass."""
        rows = []
        for event, owner_id, subject in events:
            envelope = Envelope.wrap(event, owner_id=owner_id, subject=subject)
            rows.append(
                {
                    "id": envelope.id,
                    "subject": envelope.type,
                    "envelope": envelope.model_dump_json(),
                }
            )
        if rows:
            connection = await (await self.session.connection()).get_raw_connection()
            await connection.driver_connection.copy_records_to_table(
                "outbox", records=[tuple(r.values()) for r in rows], columns=list(rows[0])
            )
            self.session.info[EVENTS_WRITTEN] = True
