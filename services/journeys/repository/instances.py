"""Definitions and instances: lookups, claims with SKIP LOCKED, bulk writes."""

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.domain import DefinitionStatus, InstanceStatus
from services.journeys.models import (
    JourneyDefinition,
    JourneyInstance,
    OwnerTag,
)
from services.journeys.repository.base import Running, arrays, chunks
from shared.database import once_a_transaction

_ANYONE_WAITING = text(
    "SELECT EXISTS (SELECT 1 FROM journey_instances "
    "WHERE status = 'waiting' AND waiting_event = :event)"
)
_MARK_CONVERTED = text(
    "UPDATE journey_instances AS j SET converted_at = :now "
    "FROM unnest(CAST(:keys AS varchar[]), CAST(:hours AS float8[])) AS g(journey_key, hours) "
    "WHERE j.owner_id = :owner_id AND j.journey_key = g.journey_key "
    "AND j.converted_at IS NULL AND j.entered_at <= :now "
    "AND j.entered_at >= :now - make_interval(secs => g.hours * 3600)"
)


class InstanceQueries:
    session: AsyncSession

    # Definitions

    async def definition(
        self, key: str, version: int | None = None, *, for_update: bool = False
    ) -> JourneyDefinition | None:
        """One version, or the newest when `version` is None."""
        statement = select(JourneyDefinition).where(JourneyDefinition.key == key)
        if version is not None:
            statement = statement.where(JourneyDefinition.version == version)
        statement = statement.order_by(JourneyDefinition.version.desc()).limit(1)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def versions(self, key: str) -> Sequence[JourneyDefinition]:
        rows = await self.session.scalars(
            select(JourneyDefinition)
            .where(JourneyDefinition.key == key)
            .order_by(JourneyDefinition.version)
            .with_for_update()
        )
        return rows.all()

    async def active(self, key: str, *, for_update: bool = False) -> JourneyDefinition | None:
        statement = select(JourneyDefinition).where(
            JourneyDefinition.key == key, JourneyDefinition.status == DefinitionStatus.ACTIVE
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def active_triggered_by(self, event: str) -> Sequence[JourneyDefinition]:
        async def load() -> Sequence[JourneyDefinition]:
            rows = await self.session.scalars(
                select(JourneyDefinition).where(
                    JourneyDefinition.status == DefinitionStatus.ACTIVE,
                    JourneyDefinition.trigger_event == event,
                )
            )
            return rows.all()

        return await once_a_transaction(self.session, ("triggered_by", event), load)

    async def active_of_trigger_type(
        self, trigger_type: str, *, claim: bool = False
    ) -> Sequence[JourneyDefinition]:
        statement = select(JourneyDefinition).where(
            JourneyDefinition.status == DefinitionStatus.ACTIVE,
            JourneyDefinition.trigger_type == trigger_type,
        )
        if claim:
            statement = statement.with_for_update(skip_locked=True)
        return (await self.session.scalars(statement)).all()

    async def specs(self, definition_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict]:
        rows = await self.session.execute(
            select(JourneyDefinition.id, JourneyDefinition.spec).where(
                JourneyDefinition.id.in_(list(set(definition_ids)))
            )
        )
        return {row.id: row.spec for row in rows}

    # Instances

    async def claim_due(self, now: datetime, limit: int) -> list["Running"]:
        """Due instances of journeys not paused, safety first; locked rows belong to another
        worker and are skipped, so replicas never run the same instance twice."""
        table = JourneyInstance.__table__
        paused = select(JourneyDefinition.id).where(
            JourneyDefinition.status == DefinitionStatus.PAUSED
        )
        rows = await self.session.execute(
            select(table)
            .where(
                table.c.status.in_([InstanceStatus.ACTIVE, InstanceStatus.WAITING]),
                table.c.due_at <= now,
                table.c.definition_id.not_in(paused),
            )
            .order_by(table.c.priority, table.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [Running(**row) for row in rows.mappings()]

    async def save_instances(self, instances: Sequence["Running"]) -> None:
        """Writes back where each claimed instance now stands: one statement per chunk."""
        names = Running.SAVED
        table = JourneyInstance.__table__
        assignments = ", ".join(f"{name} = v.{name}" for name in names)
        unnested = arrays(table, ("id", *names))
        statement = text(
            f"UPDATE journey_instances AS j SET {assignments} FROM unnest({unnested}) "
            f"AS v(id, {', '.join(names)}) WHERE j.id = v.id"
        )
        for chunk in chunks(list(instances)):
            await self.session.execute(
                statement,
                {name: [getattr(i, name) for i in chunk] for name in ("id", *names)},
            )

    async def insert_instances(self, rows: list[dict]) -> list[uuid.UUID]:
        """Inserts new instances (their ids are returned); one already there for the owner
        and run is left alone."""
        if not rows:
            return []
        table = JourneyInstance.__table__
        columns = list(rows[0])
        statement = text(
            f"INSERT INTO journey_instances ({', '.join(columns)}) "
            f"SELECT * FROM unnest({arrays(table, columns)}) "
            "ON CONFLICT (journey_key, owner_id, run_key) DO NOTHING RETURNING id"
        )
        inserted: list[uuid.UUID] = []
        for chunk in chunks(rows):
            values = {
                c: [json.dumps(r[c]) if c == "context" else r[c] for r in chunk] for c in columns
            }
            inserted += list(await self.session.scalars(statement, values))
        return inserted

    async def latest_entries(
        self, journey_key: str, owner_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, datetime]]:
        """Each owner's most recent instance of the journey: (status, entered_at)."""
        latest: dict[uuid.UUID, tuple[str, datetime]] = {}
        for chunk in chunks(owner_ids):
            rows = await self.session.execute(
                select(JourneyInstance.owner_id, JourneyInstance.status, JourneyInstance.entered_at)
                .where(
                    JourneyInstance.journey_key == journey_key,
                    JourneyInstance.owner_id.in_(list(chunk)),
                )
                .order_by(JourneyInstance.owner_id, JourneyInstance.entered_at.desc())
                .ext(distinct_on(JourneyInstance.owner_id))
            )
            latest.update({row.owner_id: (row.status, row.entered_at) for row in rows})
        return latest

    async def waiting_for(self, owner_id: uuid.UUID, event: str) -> Sequence[JourneyInstance]:
        rows = await self.session.scalars(
            select(JourneyInstance)
            .where(
                JourneyInstance.owner_id == owner_id,
                JourneyInstance.status == InstanceStatus.WAITING,
                JourneyInstance.waiting_event == event,
            )
            .with_for_update()
        )
        return rows.all()

    async def anyone_waiting_for(self, event: str) -> bool:
        """Whether any instance waits for the event, asked once a transaction: every event of
        a fetch was published before its transaction began, so a wait that began before the
        event is seen; handlers only ever end waits, so a stale yes costs one query."""

        async def load() -> bool:
            return bool(await self.session.scalar(_ANYONE_WAITING, {"event": event}))

        return await once_a_transaction(self.session, ("waited", event), load)

    async def mark_converted(
        self, owner_id: uuid.UUID, journey_keys: dict[str, float], now: datetime
    ) -> None:
        """Instances (held out or not) whose goal event arrived within their window: one
        statement for all the journeys with this goal."""
        await self.session.execute(
            _MARK_CONVERTED,
            {"owner_id": owner_id, "now": now, "keys": list(journey_keys),
             "hours": list(journey_keys.values())},
        )  # fmt: skip

    async def active_goals(self, event: str) -> dict[str, float]:
        """Journey key -> goal window (hours) of active and recent versions with this goal."""

        async def load() -> dict[str, float]:
            rows = await self.session.execute(
                select(JourneyDefinition.key, JourneyDefinition.spec["goal"]["within_hours"]).where(
                    JourneyDefinition.spec["goal"]["event"].astext == event,
                    JourneyDefinition.status != DefinitionStatus.DRAFT,
                )
            )
            return {key: float(hours) for key, hours in rows.all()}

        return await once_a_transaction(self.session, ("goals", event), load)

    async def set_tags(self, rows: list[dict], *, add: bool) -> None:
        if not rows:
            return
        if add:
            for chunk in chunks(rows):
                await self.session.execute(
                    pg_insert(OwnerTag).on_conflict_do_nothing(), list(chunk)
                )
            return
        for row in rows:
            await self.session.execute(
                delete(OwnerTag).where(
                    OwnerTag.owner_id == row["owner_id"], OwnerTag.tag == row["tag"]
                )
            )
