"""Queries of referral codes and referred leads."""

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import Lead, ReferralCode


class LoyaltyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def referral_code_of(self, owner_id: uuid.UUID) -> ReferralCode | None:
        return await self.session.scalar(
            select(ReferralCode).where(ReferralCode.owner_id == owner_id)
        )

    async def referral_code(self, code: str) -> ReferralCode | None:
        return await self.session.get(ReferralCode, code)

    async def referred_lead_of(self, owner_id: uuid.UUID) -> Lead | None:
        return (await self.referred_leads_of([owner_id])).get(owner_id)

    async def referred_leads_of(self, owner_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Lead]:
        """Each owner's earliest lead that came with a referral (owners with none are left
        out)."""
        rows = await self.session.scalars(
            select(Lead)
            .where(Lead.owner_id.in_(owner_ids), Lead.referrer_owner_id.is_not(None))
            .order_by(Lead.owner_id, Lead.created_at)
            .ext(distinct_on(Lead.owner_id))
        )
        return {lead.owner_id: lead for lead in rows}
