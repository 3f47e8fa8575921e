"""Measurement counts and an owner's data for export and erasure."""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.journeys.domain import InstanceStatus
from services.journeys.models import (
    Decision,
    Delivery,
    JourneyInstance,
    KnownOwner,
    KnownVehicle,
    Message,
    OwnerConsent,
    OwnerSegment,
    OwnerTag,
    RecallVehicle,
)

M = TypeVar("M", bound=SQLModel)


class ReportQueries:
    session: AsyncSession

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

    async def merge_owner(self, merged: uuid.UUID, survivor: uuid.UUID) -> None:
        """Everything held about `merged` becomes `survivor`'s. Where both are in the same run
        of a journey, the survivor's instance stands; of two consents the later one holds."""
        ids = {"merged": merged, "survivor": survivor}
        for statement in _MERGE:
            await self.session.execute(text(statement), ids)


_MERGE = [
    "DELETE FROM journey_instances m USING journey_instances s WHERE m.owner_id = :merged "
    "AND s.owner_id = :survivor AND s.journey_key = m.journey_key AND s.run_key = m.run_key",
    *(f"UPDATE {table} SET owner_id = :survivor WHERE owner_id = :merged"
      for table in ("journey_instances", "messages", "deliveries", "decisions",
                    "known_vehicles", "recall_vehicles")),
    "INSERT INTO owner_consents (owner_id, purpose, channel, granted, changed_at) "
    "SELECT :survivor, purpose, channel, granted, changed_at FROM owner_consents "
    "WHERE owner_id = :merged ON CONFLICT (owner_id, purpose, channel) DO UPDATE SET "
    "granted = excluded.granted, changed_at = excluded.changed_at "
    "WHERE owner_consents.changed_at < excluded.changed_at",
    "INSERT INTO owner_segments (segment_key, owner_id) SELECT segment_key, :survivor "
    "FROM owner_segments WHERE owner_id = :merged ON CONFLICT DO NOTHING",
    "INSERT INTO owner_tags (owner_id, tag) SELECT :survivor, tag FROM owner_tags "
    "WHERE owner_id = :merged ON CONFLICT DO NOTHING",
    *(f"DELETE FROM {table} WHERE owner_id = :merged"
      for table in ("owner_consents", "owner_segments", "owner_tags")),
    "UPDATE known_owners SET id = :survivor WHERE id = :merged "
    "AND NOT EXISTS (SELECT 1 FROM known_owners WHERE id = :survivor)",
    "DELETE FROM known_owners WHERE id = :merged",
]  # fmt: skip
