"""What guard rails read: owner facts and contacts, recent deliveries, templates, policy."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.domain import OwnerFacts
from services.journeys.models import (
    ContactPolicyRow,
    Delivery,
    KnownOwner,
    KnownVehicle,
    Message,
    MessageTemplate,
    OwnerConsent,
    OwnerSegment,
    OwnerTag,
)
from services.journeys.repository.base import chunks

# Asked for every event handled: built once, and with an array, not an expanding IN list,
# which is rendered anew on every call (the two cost more than running the query).
_ERASED = text(
    "SELECT owner_id FROM erased_owners WHERE owner_id = ANY(CAST(:owner_ids AS uuid[]))"
)

# A trip's end parks its vehicle (a vehicle not known yet is recorded), in one statement:
# every trip completed comes through here.
_PARKED = text(
    "INSERT INTO known_vehicles (id, vin) VALUES (:id, :vin) "
    "ON CONFLICT (id) DO UPDATE SET moving_since = NULL "
    "WHERE known_vehicles.moving_since <= :ended_at"
)


class ContactQueries:
    session: AsyncSession

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
        return set(await self.session.scalars(_ERASED, {"owner_ids": list(owner_ids)}))

    async def parked(self, vehicle_id: uuid.UUID, vin: str, ended_at: datetime) -> None:
        """Not moving since `ended_at`, unless a later trip has started."""
        await self.session.execute(_PARKED, {"id": vehicle_id, "vin": vin, "ended_at": ended_at})

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

    async def leave_segment(self, owner_id: uuid.UUID, segment_key: str) -> None:
        await self.session.execute(
            delete(OwnerSegment).where(
                OwnerSegment.owner_id == owner_id, OwnerSegment.segment_key == segment_key
            )
        )
