"""Recall campaigns: VINs resolved to owners in bulk, proof of notice, completion."""

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.models import JourneyInstance, KnownVehicle, Message, Recall, RecallVehicle
from services.journeys.repository.base import chunks


class RecallQueries:
    session: AsyncSession

    async def recall_by_code(self, code: str) -> Recall | None:
        return await self.session.scalar(select(Recall).where(Recall.code == code))

    async def vehicles_by_vin(self, vins: Sequence[str]) -> dict[str, KnownVehicle]:
        found: dict[str, KnownVehicle] = {}
        for chunk in chunks(list(vins)):
            rows = await self.session.scalars(
                select(KnownVehicle).where(KnownVehicle.vin.in_(list(chunk)))
            )
            found.update({vehicle.vin: vehicle for vehicle in rows})
        return found

    async def instances_by_run(
        self, journey_key: str, run_keys: Sequence[str]
    ) -> dict[str, uuid.UUID]:
        found: dict[str, uuid.UUID] = {}
        for chunk in chunks(list(run_keys)):
            rows = await self.session.execute(
                select(JourneyInstance.run_key, JourneyInstance.id).where(
                    JourneyInstance.journey_key == journey_key,
                    JourneyInstance.run_key.in_(list(chunk)),
                )
            )
            found.update({run_key: instance_id for run_key, instance_id in rows})
        return found

    async def complete_recalls(self, codes: Sequence[str], vin: str, on: date) -> None:
        recalls = select(Recall.id).where(Recall.code.in_(list(codes)))
        await self.session.execute(
            update(RecallVehicle)
            .where(
                RecallVehicle.recall_id.in_(recalls),
                RecallVehicle.vin == vin,
                RecallVehicle.completed_at.is_(None),
            )
            .values(completed_at=on)
        )

    async def recall_vehicles(self, recall_id: uuid.UUID) -> Sequence[RecallVehicle]:
        rows = await self.session.scalars(
            select(RecallVehicle)
            .where(RecallVehicle.recall_id == recall_id)
            .order_by(RecallVehicle.vin)
        )
        return rows.all()

    async def first_messages(self, instance_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Message]:
        """Each instance's first message (a recall's notice), by instance."""
        found: dict[uuid.UUID, Message] = {}
        for chunk in chunks(list(instance_ids)):
            rows = await self.session.scalars(
                select(Message)
                .where(Message.instance_id.in_(list(chunk)))
                .order_by(Message.created_at, Message.step_id)
            )
            for message in rows:
                found.setdefault(message.instance_id, message)
        return found
