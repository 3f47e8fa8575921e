"""Every journeys query. Reads are scoped by the caller's owner where an owner asks; writes
flush only. Bulk writes go through Core statements: a campaign touches 100,000 owners."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on
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

_OUTBOX_INSERT = text(
    "INSERT INTO outbox (id, subject, envelope) VALUES (:id, :subject, CAST(:envelope AS jsonb))"
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
        for chunk in chunks(rows):
            await self.session.execute(insert(model), list(chunk))

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
        """Outbox rows for (event, owner, subject) in one round trip per chunk."""
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
        for chunk in chunks(rows):
            await self.session.execute(_OUTBOX_INSERT, list(chunk))
        if rows:
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

    async def claim_due(self, now: datetime, limit: int) -> Sequence[JourneyInstance]:
        """Due instances of journeys not paused, safety first; locked rows belong to another
        worker and are skipped, so replicas never run the same instance twice."""
        paused = select(JourneyDefinition.id).where(
            JourneyDefinition.status == DefinitionStatus.PAUSED
        )
        rows = await self.session.scalars(
            select(JourneyInstance)
            .where(
                JourneyInstance.status.in_([InstanceStatus.ACTIVE, InstanceStatus.WAITING]),
                JourneyInstance.due_at <= now,
                JourneyInstance.definition_id.not_in(paused),
            )
            .order_by(JourneyInstance.priority, JourneyInstance.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def insert_instances(self, rows: list[dict]) -> list[uuid.UUID]:
        """Inserts new instances (their ids are returned); one already there for the owner
        and run is left alone."""
        inserted: list[uuid.UUID] = []
        for chunk in chunks(rows):
            result = await self.session.execute(
                pg_insert(JourneyInstance)
                .values(list(chunk))
                .on_conflict_do_nothing(index_elements=["journey_key", "owner_id", "run_key"])
                .returning(JourneyInstance.id)
            )
            inserted += [row.id for row in result.all()]
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
                    pg_insert(OwnerTag).values(list(chunk)).on_conflict_do_nothing()
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
            for row in await self.session.execute(
                select(OwnerConsent).where(OwnerConsent.owner_id.in_(ids))
            ):
                consent = row[0]
                target = facts[consent.owner_id]
                pair = (consent.purpose, consent.channel)
                if consent.granted:
                    target.consents.add(pair)
                else:
                    target.withdrawn.add(pair)
        return facts

    async def contacts(self, owner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, KnownOwner]:
        found: dict[uuid.UUID, KnownOwner] = {}
        for chunk in chunks(list(owner_ids)):
            rows = await self.session.scalars(
                select(KnownOwner).where(KnownOwner.id.in_(list(chunk)))
            )
            found.update({owner.id: owner for owner in rows})
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
