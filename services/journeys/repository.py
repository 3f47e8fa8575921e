"""Every journeys query. Reads are scoped by the caller's owner where an owner asks; writes
flush only. Bulk writes go through Core statements: a campaign touches 100,000 owners."""

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.journeys.domain import DefinitionStatus, InstanceStatus, OwnerFacts
from services.journeys.models import (
    ContactPolicyRow,
    Decision,
    Delivery,
    ErasedOwner,
    JourneyDefinition,
    JourneyInstance,
    KnownOwner,
    KnownVehicle,
    Message,
    MessageTemplate,
    OwnerConsent,
    OwnerSegment,
    OwnerTag,
    RecallVehicle,
)
from shared.database import EVENTS_WRITTEN
from shared.messaging.envelope import Envelope, Event
from shared.pagination import PageParams

M = TypeVar("M", bound=SQLModel)
CHUNK = 5000


@dataclass(eq=False)
class Running:
    """A claimed instance as the engine moves it on: a plain record, saved in bulk."""

    # The context only changes when an awaited event arrives, which is not the engine's work.
    SAVED: ClassVar[tuple[str, ...]] = (
        "status", "step_id", "visits", "due_at", "waiting_event", "finished_at",
    )  # fmt: skip

    id: uuid.UUID
    definition_id: uuid.UUID
    journey_key: str
    version: int
    owner_id: uuid.UUID
    run_key: str
    status: str
    priority: int
    step_id: str | None
    visits: int
    due_at: datetime | None
    waiting_event: str | None
    context: dict
    holdout: bool
    entered_at: datetime
    finished_at: datetime | None
    converted_at: datetime | None


def _arrays(table, columns: Iterable[str]) -> str:
    """`CAST(:name AS type[])` for each column: the parameters of an `unnest`."""
    dialect = postgresql.dialect()
    return ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns
    )


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class JourneysRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, model: M) -> M:
        self.session.add(model)
        await self.session.flush()
        return model

    async def get(self, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
        return await self.session.get(model, key, with_for_update=for_update)

    async def page(
        self, model: type[M], page: PageParams, *conditions: Any, order_by: Any
    ) -> tuple[Sequence[M], int]:
        total = await self.session.scalar(
            select(func.count()).select_from(model).where(*conditions)
        )
        rows = await self.session.scalars(
            select(model).where(*conditions).order_by(*order_by).limit(page.limit)
            .offset(page.offset)
        )  # fmt: skip
        return rows.all(), total or 0

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

    async def upsert(
        self, model: type[SQLModel], values: dict[str, Any], *, insert_only: set[str] = frozenset()
    ) -> None:
        """Inserts a projected record or overwrites the fields given, except `insert_only`."""
        keys = [column.name for column in model.__table__.primary_key.columns]
        statement = pg_insert(model).values(**values)
        changed = {
            name: statement.excluded[name]
            for name in values
            if name not in keys and name not in insert_only
        }
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=keys, set_=changed)
            if changed
            else statement.on_conflict_do_nothing(index_elements=keys)
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
        rows = await self.session.scalars(
            select(JourneyDefinition).where(
                JourneyDefinition.status == DefinitionStatus.ACTIVE,
                JourneyDefinition.trigger_event == event,
            )
        )
        return rows.all()

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
        arrays = _arrays(table, ("id", *names))
        statement = text(
            f"UPDATE journey_instances AS j SET {assignments} FROM unnest({arrays}) "
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
            f"SELECT * FROM unnest({_arrays(table, columns)}) "
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

    async def mark_converted(
        self, owner_id: uuid.UUID, journey_keys: dict[str, float], now: datetime
    ) -> None:
        """Instances (held out or not) whose goal event arrived within their window."""
        for key, within_hours in journey_keys.items():
            await self.session.execute(
                update(JourneyInstance)
                .where(
                    JourneyInstance.owner_id == owner_id,
                    JourneyInstance.journey_key == key,
                    JourneyInstance.converted_at.is_(None),
                    JourneyInstance.entered_at >= now - timedelta(hours=within_hours),
                    JourneyInstance.entered_at <= now,
                )
                .values(converted_at=now)
            )

    async def active_goals(self, event: str) -> dict[str, float]:
        """Journey key -> goal window (hours) of active and recent versions with this goal."""
        rows = await self.session.execute(
            select(JourneyDefinition.key, JourneyDefinition.spec["goal"]["within_hours"]).where(
                JourneyDefinition.spec["goal"]["event"].astext == event,
                JourneyDefinition.status != DefinitionStatus.DRAFT,
            )
        )
        return {key: float(hours) for key, hours in rows.all()}

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

    # Owner facts

    async def owner_facts(self, owner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OwnerFacts]:
        facts = {owner_id: OwnerFacts() for owner_id in owner_ids}
        for chunk in chunks(list(owner_ids)):
            ids = list(chunk)
            for owner_id, language in await self.session.execute(
                select(KnownOwner.id, KnownOwner.language).where(KnownOwner.id.in_(ids))
            ):
                facts[owner_id].language = language
            for owner_id, segment in await self.session.execute(
                select(OwnerSegment.owner_id, OwnerSegment.segment_key).where(
                    OwnerSegment.owner_id.in_(ids)
                )
            ):
                facts[owner_id].segments.add(segment)
            for owner_id, tag in await self.session.execute(
                select(OwnerTag.owner_id, OwnerTag.tag).where(OwnerTag.owner_id.in_(ids))
            ):
                facts[owner_id].tags.add(tag)
            await self._consents_into(facts, ids)
        return facts

    async def consents(self, owner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OwnerFacts]:
        """Only the consents (and language) of each owner: what a message step needs."""
        facts = {owner_id: OwnerFacts() for owner_id in owner_ids}
        for chunk in chunks(list(owner_ids)):
            await self._consents_into(facts, list(chunk))
        return facts

    async def _consents_into(self, facts: dict, ids: list[uuid.UUID]) -> None:
        for owner_id, purpose, channel, granted in await self.session.execute(
            select(
                OwnerConsent.owner_id,
                OwnerConsent.purpose,
                OwnerConsent.channel,
                OwnerConsent.granted,
            ).where(OwnerConsent.owner_id.in_(ids))
        ):
            target = facts[owner_id]
            (target.consents if granted else target.withdrawn).add((purpose, channel))

    async def contacts(self, owner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """Each known owner's contact facts (rows with KnownOwner's attribute names)."""
        table = KnownOwner.__table__
        found: dict[uuid.UUID, Any] = {}
        for chunk in chunks(list(owner_ids)):
            rows = await self.session.execute(select(table).where(table.c.id.in_(list(chunk))))
            found.update({row.id: row for row in rows})
        return found

    async def audience_candidates(self, segments: list[str]) -> list[uuid.UUID]:
        """Owners in every one of `segments` (all known owners when none are required)."""
        if not segments:
            return list(await self.session.scalars(select(KnownOwner.id).order_by(KnownOwner.id)))
        statement = (
            select(OwnerSegment.owner_id)
            .where(OwnerSegment.segment_key.in_(segments))
            .group_by(OwnerSegment.owner_id)
            .having(func.count() == len(set(segments)))
            .order_by(OwnerSegment.owner_id)
        )
        return list(await self.session.scalars(statement))

    async def anniversaries(self, day: date, years: int) -> list[tuple[uuid.UUID, KnownVehicle]]:
        """Owners whose vehicle was delivered exactly `years` before `day`."""
        try:
            delivered = day.replace(year=day.year - years)
        except ValueError:  # 29 February in a common year
            return []
        rows = await self.session.scalars(
            select(KnownVehicle).where(
                KnownVehicle.delivery_date == delivered, KnownVehicle.owner_id.is_not(None)
            )
        )
        return [(vehicle.owner_id, vehicle) for vehicle in rows]

    async def erased(self, owner_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        found: set[uuid.UUID] = set()
        for chunk in chunks(list(owner_ids)):
            rows = await self.session.scalars(
                select(ErasedOwner.owner_id).where(ErasedOwner.owner_id.in_(list(chunk)))
            )
            found.update(rows)
        return found

    async def moving_owners(
        self, owner_ids: Sequence[uuid.UUID], since: datetime
    ) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(KnownVehicle.owner_id).where(
                KnownVehicle.owner_id.in_(list(owner_ids)), KnownVehicle.moving_since >= since
            )
        )
        return set(rows)

    async def vehicle_by_vin(self, vin: str) -> KnownVehicle | None:
        return await self.session.scalar(select(KnownVehicle).where(KnownVehicle.vin == vin))

    # Messages and deliveries

    async def recent_deliveries(
        self, owner_ids: Sequence[uuid.UUID], households: Sequence[uuid.UUID], since: datetime
    ) -> Sequence[Any]:
        """Deliveries that count against caps: queued or sent, for these owners or households."""
        if not owner_ids:
            return []
        conditions = [Delivery.owner_id.in_(list(owner_ids))]
        if households:
            conditions.append(Delivery.household_id.in_(list(households)))
        rows = await self.session.execute(
            select(
                Delivery.owner_id,
                Delivery.vehicle_id,
                Delivery.household_id,
                Delivery.channel,
                Delivery.category,
                Delivery.created_at,
            ).where(
                or_(*conditions),
                Delivery.created_at >= since,
                Delivery.status.in_(["queued", "sent"]),
                Delivery.channel != "webhook",
            )
        )
        return rows.all()

    async def claim_deliveries(self, now: datetime, limit: int) -> Sequence[Delivery]:
        rows = await self.session.scalars(
            select(Delivery)
            .where(Delivery.status == "queued", Delivery.not_before <= now)
            .order_by(Delivery.priority, Delivery.not_before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def owner_message(
        self, owner_id: uuid.UUID, message_id: uuid.UUID, *, for_update: bool = False
    ) -> Message | None:
        statement = select(Message).where(Message.id == message_id, Message.owner_id == owner_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def deliveries_of(self, message_ids: Sequence[uuid.UUID]) -> Sequence[Delivery]:
        rows = await self.session.scalars(
            select(Delivery)
            .where(Delivery.message_id.in_(list(message_ids)))
            .order_by(Delivery.channel)
        )
        return rows.all()

    async def template(self, key: str) -> MessageTemplate | None:
        return await self.session.get(MessageTemplate, key)

    async def all_templates(self) -> Sequence[MessageTemplate]:
        return (await self.session.scalars(select(MessageTemplate))).all()

    async def policy(self) -> ContactPolicyRow | None:
        return await self.session.get(ContactPolicyRow, "default")

    # Measurement

    async def instance_counts(self, journey_key: str) -> Sequence[Any]:
        """(holdout, status, instances, converted) for the journey."""
        rows = await self.session.execute(
            select(
                JourneyInstance.holdout,
                JourneyInstance.status,
                func.count(),
                func.count(JourneyInstance.converted_at),
            )
            .where(JourneyInstance.journey_key == journey_key)
            .group_by(JourneyInstance.holdout, JourneyInstance.status)
        )
        return rows.all()

    async def standing_at_steps(self, journey_key: str) -> Sequence[Any]:
        rows = await self.session.execute(
            select(JourneyInstance.step_id, func.count())
            .where(
                JourneyInstance.journey_key == journey_key,
                JourneyInstance.status.in_([InstanceStatus.ACTIVE, InstanceStatus.WAITING]),
            )
            .group_by(JourneyInstance.step_id)
        )
        return rows.all()

    async def decision_counts(self, journey_key: str) -> Sequence[Any]:
        """(step, outcome, reason, owners) over the journey's decision log."""
        rows = await self.session.execute(
            select(
                Decision.step_id,
                Decision.outcome,
                Decision.reason,
                func.count(func.distinct(Decision.instance_id)),
            )
            .where(Decision.journey_key == journey_key)
            .group_by(Decision.step_id, Decision.outcome, Decision.reason)
        )
        return rows.all()

    # Privacy

    async def erase_owner(self, owner_id: uuid.UUID) -> int:
        erased = 0
        for model, column in (
            (Message, Message.owner_id),
            (Delivery, Delivery.owner_id),
            (Decision, Decision.owner_id),
            (JourneyInstance, JourneyInstance.owner_id),
            (OwnerConsent, OwnerConsent.owner_id),
            (OwnerSegment, OwnerSegment.owner_id),
            (OwnerTag, OwnerTag.owner_id),
            (KnownOwner, KnownOwner.id),
        ):
            result = await self.session.execute(delete(model).where(column == owner_id))
            erased += result.rowcount or 0
        await self.session.execute(
            update(KnownVehicle).where(KnownVehicle.owner_id == owner_id).values(owner_id=None)
        )
        return erased

    async def clear_recall_owner(self, owner_id: uuid.UUID) -> None:
        """A recall keeps its VINs (a vehicle is not personal data once unlinked)."""
        await self.session.execute(
            update(RecallVehicle).where(RecallVehicle.owner_id == owner_id).values(owner_id=None)
        )

    async def owned_rows(self, model: type[M], column: Any, owner_id: uuid.UUID) -> Sequence[M]:
        return (await self.session.scalars(select(model).where(column == owner_id))).all()
