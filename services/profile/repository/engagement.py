"""Queries of interaction events, leads, consents, vehicle roles, households, dealer groups."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import (
    Consent,
    ConsentEntry,
    Dealer,
    DealerGroup,
    Household,
    HouseholdDeparture,
    HouseholdMember,
    InteractionEvent,
    Lead,
    Vehicle,
    VehicleRole,
)
from services.profile.repository.core import vehicle_scope
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams
from shared.scoping import in_visible_dealers


def lead_scope(caller: Caller) -> ColumnElement[bool]:
    match caller.kind:
        case CallerKind.DEALER:
            return in_visible_dealers(Lead.dealer_id, caller)
        case CallerKind.OWNER:
            return Lead.owner_id == caller.owner_id if caller.owner_id else false()
    if caller.region:
        return Lead.dealer_id.in_(select(Dealer.id).where(Dealer.region == caller.region))
    return true()


def dealer_group_scope(caller: Caller) -> ColumnElement[bool]:
    match caller.kind:
        case CallerKind.DEALER:
            if caller.dealer_group_id:
                return DealerGroup.id == caller.dealer_group_id
            mine = select(Dealer.group_id).where(in_visible_dealers(Dealer.id, caller))
            return DealerGroup.id.in_(mine)
        case CallerKind.OWNER:
            return false()
    return DealerGroup.region == caller.region if caller.region else true()


class EngagementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Interaction events

    async def add_events(self, rows: list[dict[str, Any]]) -> list[uuid.UUID]:
        """Stores the events; a resent client id is skipped. Returns the ids stored."""
        if not rows:
            return []
        stored = await self.session.scalars(
            insert(InteractionEvent)
            .on_conflict_do_nothing(index_elements=["owner_id", "client_event_id"])
            .returning(InteractionEvent.id),
            rows,
        )
        return list(stored)

    async def events_of(
        self, owner_id: uuid.UUID, page: PageParams, *, event_type: str | None = None
    ) -> tuple[Sequence[InteractionEvent], int]:
        filters = [InteractionEvent.owner_id == owner_id]
        if event_type:
            filters.append(InteractionEvent.type == event_type)
        total = await self.session.scalar(
            select(func.count()).select_from(InteractionEvent).where(*filters)
        )
        rows = await self.session.scalars(
            select(InteractionEvent)
            .where(*filters)
            .order_by(InteractionEvent.occurred_at.desc(), InteractionEvent.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all(), total or 0

    async def events_since(
        self, owner_id: uuid.UUID, since: datetime
    ) -> Sequence[InteractionEvent]:
        rows = await self.session.scalars(
            select(InteractionEvent).where(
                InteractionEvent.owner_id == owner_id, InteractionEvent.occurred_at >= since
            )
        )
        return rows.all()

    async def anonymise_events(self, owner_id: uuid.UUID) -> int:
        """Keeps each event's type and time (anonymous counts), drops what it said."""
        result = await self.session.execute(
            update(InteractionEvent)
            .where(InteractionEvent.owner_id == owner_id)
            .values(properties={}, client_event_id=None)
        )
        return result.rowcount

    # Leads

    async def list_leads(self, caller: Caller, page: PageParams) -> tuple[Sequence[Lead], int]:
        scope = lead_scope(caller)
        total = await self.session.scalar(select(func.count()).select_from(Lead).where(scope))
        rows = await self.session.scalars(
            select(Lead)
            .where(scope)
            .order_by(Lead.created_at.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all(), total or 0

    async def get_lead(self, caller: Caller, lead_id: uuid.UUID) -> Lead | None:
        return await self.session.scalar(select(Lead).where(lead_scope(caller), Lead.id == lead_id))

    async def leads_of(self, owner_id: uuid.UUID, caller: Caller) -> Sequence[Lead]:
        rows = await self.session.scalars(
            select(Lead)
            .where(Lead.owner_id == owner_id, lead_scope(caller))
            .order_by(Lead.created_at)
        )
        return rows.all()

    # Consents

    async def record_consent(self, entry: ConsentEntry, current: Consent | None) -> None:
        """Appends the answer to the history and makes it the current one."""
        self.session.add(entry)
        values = {
            "granted": entry.granted,
            "notice_version": entry.notice_version,
            "source": entry.source,
            "changed_at": entry.changed_at,
        }
        if current is None:
            self.session.add(
                Consent(
                    owner_id=entry.owner_id, purpose=entry.purpose, channel=entry.channel, **values
                )
            )
        else:
            for name, value in values.items():
                setattr(current, name, value)
        await self.session.flush()

    async def consent(self, owner_id: uuid.UUID, purpose: str, channel: str) -> Consent | None:
        return await self.session.get(Consent, (owner_id, purpose, channel))

    async def consents_of(self, owner_id: uuid.UUID) -> Sequence[Consent]:
        rows = await self.session.scalars(
            select(Consent)
            .where(Consent.owner_id == owner_id)
            .order_by(Consent.purpose, Consent.channel)
        )
        return rows.all()

    async def consent_history(self, owner_id: uuid.UUID) -> Sequence[ConsentEntry]:
        rows = await self.session.scalars(
            select(ConsentEntry)
            .where(ConsentEntry.owner_id == owner_id)
            .order_by(ConsentEntry.changed_at, ConsentEntry.id)
        )
        return rows.all()

    # Vehicle roles

    async def roles_of_vehicle(self, vehicle_id: uuid.UUID) -> Sequence[VehicleRole]:
        rows = await self.session.scalars(
            select(VehicleRole)
            .where(VehicleRole.vehicle_id == vehicle_id)
            .order_by(VehicleRole.effective_from, VehicleRole.created_at)
        )
        return rows.all()

    async def roles_at(self, vehicle_id: uuid.UUID, day: date) -> Sequence[VehicleRole]:
        rows = await self.session.scalars(
            select(VehicleRole).where(
                VehicleRole.vehicle_id == vehicle_id,
                VehicleRole.effective_from <= day,
                or_(VehicleRole.effective_to.is_(None), VehicleRole.effective_to > day),
            )
        )
        return rows.all()

    async def current_role(
        self, vehicle_id: uuid.UUID, role: str, owner_id: uuid.UUID | None = None
    ) -> VehicleRole | None:
        filters = [
            VehicleRole.vehicle_id == vehicle_id,
            VehicleRole.role == role,
            VehicleRole.effective_to.is_(None),
        ]
        if owner_id:
            filters.append(VehicleRole.owner_id == owner_id)
        return await self.session.scalar(select(VehicleRole).where(*filters).with_for_update())

    async def roles_about(
        self, caller: Caller, owner_id: uuid.UUID, roles: Sequence[str]
    ) -> list[tuple[VehicleRole, Vehicle]]:
        """Roles of these kinds that the owner held, or others held on the owner's vehicles,
        on vehicles the caller may see."""
        rows = await self.session.execute(
            select(VehicleRole, Vehicle)
            .join(Vehicle, Vehicle.id == VehicleRole.vehicle_id)
            .where(
                VehicleRole.role.in_(roles),
                or_(VehicleRole.owner_id == owner_id, Vehicle.owner_id == owner_id),
                vehicle_scope(caller),
            )
        )
        return [(role, vehicle) for role, vehicle in rows]

    async def get_role(self, vehicle_id: uuid.UUID, role_id: uuid.UUID) -> VehicleRole | None:
        return await self.session.scalar(
            select(VehicleRole)
            .where(VehicleRole.vehicle_id == vehicle_id, VehicleRole.id == role_id)
            .with_for_update()
        )

    # Households

    async def household(self, household_id: uuid.UUID) -> Household | None:
        return await self.session.get(Household, household_id)

    async def household_members(self, household_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(HouseholdMember.owner_id)
            .where(HouseholdMember.household_id == household_id)
            .order_by(HouseholdMember.joined_at, HouseholdMember.owner_id)
        )
        return list(rows)

    async def household_of(self, owner_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(HouseholdMember.household_id).where(HouseholdMember.owner_id == owner_id)
        )

    async def leave_household(
        self, owner_id: uuid.UUID, household_id: uuid.UUID | None = None
    ) -> uuid.UUID | None:
        """Takes the owner out of their household (only if it is `household_id`, when given);
        returns which one it was (None: none)."""
        only = () if household_id is None else (HouseholdMember.household_id == household_id,)
        return await self.session.scalar(
            delete(HouseholdMember)
            .where(HouseholdMember.owner_id == owner_id, *only)
            .returning(HouseholdMember.household_id)
        )

    async def record_departure(
        self, household_id: uuid.UUID, owner_id: uuid.UUID, at: datetime
    ) -> None:
        values = {"household_id": household_id, "owner_id": owner_id, "left_at": at}
        await self.session.execute(
            insert(HouseholdDeparture)
            .values(values)
            .on_conflict_do_update(
                index_elements=["household_id", "owner_id"], set_={"left_at": at}
            )
        )

    async def departure(
        self, household_id: uuid.UUID, owner_id: uuid.UUID
    ) -> HouseholdDeparture | None:
        return await self.session.get(HouseholdDeparture, (household_id, owner_id))

    async def departures_of(self, owner_id: uuid.UUID) -> Sequence[HouseholdDeparture]:
        rows = await self.session.scalars(
            select(HouseholdDeparture)
            .where(HouseholdDeparture.owner_id == owner_id)
            .order_by(HouseholdDeparture.left_at)
        )
        return rows.all()

    async def former_members(self, household_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(HouseholdDeparture.owner_id).where(
                HouseholdDeparture.household_id == household_id
            )
        )
        return list(rows)

    async def forget_departures(self, owner_id: uuid.UUID) -> int:
        result = await self.session.execute(
            delete(HouseholdDeparture).where(HouseholdDeparture.owner_id == owner_id)
        )
        return result.rowcount

    # Dealer groups

    async def list_dealer_groups(
        self, caller: Caller, page: PageParams
    ) -> tuple[Sequence[DealerGroup], int]:
        scope = dealer_group_scope(caller)
        total = await self.session.scalar(
            select(func.count()).select_from(DealerGroup).where(scope)
        )
        rows = await self.session.scalars(
            select(DealerGroup)
            .where(scope)
            .order_by(DealerGroup.code)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all(), total or 0

    async def get_dealer_group(self, caller: Caller, group_id: uuid.UUID) -> DealerGroup | None:
        return await self.session.scalar(
            select(DealerGroup).where(dealer_group_scope(caller), DealerGroup.id == group_id)
        )

    async def dealer_group_code_taken(self, code: str) -> bool:
        found = await self.session.scalar(select(DealerGroup.id).where(DealerGroup.code == code))
        return found is not None

    async def dealers_in_groups(self, group_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list]:
        rows = await self.session.execute(
            select(Dealer.group_id, Dealer.id)
            .where(Dealer.group_id.in_(group_ids))
            .order_by(Dealer.code)
        )
        members: dict[uuid.UUID, list] = {group_id: [] for group_id in group_ids}
        for group_id, dealer_id in rows:
            members[group_id].append(dealer_id)
        return members
