"""Leads and test-drive requests, for the chosen dealer to follow up (tickets opens the case)."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import DealerRelation
from services.profile.errors import LeadNotFound, UnknownReference
from services.profile.models import Dealer, Lead
from services.profile.repository import ProfileRepository
from services.profile.repository.engagement import EngagementRepository
from services.profile.repository.loyalty import LoyaltyRepository
from services.profile.schemas.engagement import LeadCreate
from services.profile.service.facts import refresh_owner
from services.profile.service.owners import visible_owner
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import LeadCreated
from shared.messaging.outbox import record_event
from shared.pagination import PageParams


async def create_lead(
    session: AsyncSession, *, caller: Caller, data: LeadCreate, now: datetime
) -> Lead:
    if caller.is_staff:  # customer service on the phone, marketing's campaigns
        caller.require_staff(StaffRole.CX_AGENT, StaffRole.MARKETING)
    owner_id = _lead_owner(caller, data)
    await visible_owner(session, caller, owner_id)
    dealer_id = await _lead_dealer(session, caller, data)
    referrer = await _referrer(session, data.referral_code, owner_id)
    lead = await ProfileRepository(session).add(
        Lead(
            kind=data.kind,
            owner_id=owner_id,
            dealer_id=dealer_id,
            model=data.model,
            channel=data.channel,
            requested_slot=data.requested_slot,
            referrer_owner_id=referrer,
            created_at=now,
        )
    )
    # The dealer now sees the owner: it has to follow the lead up.
    await ProfileRepository(session).link_owner(owner_id, dealer_id, DealerRelation.LEAD, None)
    await record_event(
        session,
        LeadCreated(
            lead_id=lead.id,
            kind=lead.kind,
            owner_id=owner_id,
            dealer_id=dealer_id,
            model=lead.model,
            channel=lead.channel,
            requested_slot=lead.requested_slot,
            created_at=now,
        ),
        subject=lead.id,
        dealer_id=dealer_id,
        owner_id=owner_id,
    )
    await refresh_owner(session, owner_id, now=now)
    return lead


def _lead_owner(caller: Caller, data: LeadCreate) -> uuid.UUID:
    if caller.kind is CallerKind.OWNER:
        if data.owner_id not in (None, caller.owner_id):
            raise UnknownReference.for_field("body.owner_id", "owners create only their own leads")
        assert caller.owner_id is not None
        return caller.owner_id
    if data.owner_id is None:
        raise UnknownReference.for_field("body.owner_id", "required unless the owner calls")
    return data.owner_id


async def _lead_dealer(session: AsyncSession, caller: Caller, data: LeadCreate) -> uuid.UUID:
    if caller.kind is CallerKind.DEALER:
        dealer_id = caller.acting_dealer(data.dealer_id)
        if dealer_id is None:  # another dealer's, or a dealer group's key naming none
            raise UnknownReference.for_field("body.dealer_id", "dealers create their own leads")
        return dealer_id
    if data.dealer_id is None or await session.get(Dealer, data.dealer_id) is None:
        raise UnknownReference.for_field("body.dealer_id", f"dealer {data.dealer_id} not found")
    return data.dealer_id


async def _referrer(
    session: AsyncSession, code: str | None, owner_id: uuid.UUID
) -> uuid.UUID | None:
    if code is None:
        return None
    referral = await LoyaltyRepository(session).referral_code(code)
    if referral is None:
        raise UnknownReference.for_field("body.referral_code", f"unknown referral code {code}")
    if referral.owner_id == owner_id:
        raise UnknownReference.for_field("body.referral_code", "an owner cannot refer themselves")
    return referral.owner_id


async def list_leads(
    session: AsyncSession, *, caller: Caller, page: PageParams
) -> tuple[list[Lead], int]:
    items, total = await EngagementRepository(session).list_leads(caller, page)
    return list(items), total


async def get_lead(session: AsyncSession, *, caller: Caller, lead_id: uuid.UUID) -> Lead:
    lead = await EngagementRepository(session).get_lead(caller, lead_id)
    if lead is None:
        raise LeadNotFound(f"Lead {lead_id} not found")
    return lead
