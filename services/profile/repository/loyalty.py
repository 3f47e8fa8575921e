"""Queries of referral codes and referred leads."""

import uuid

from sqlalchemy import select
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
        return await self.session.scalar(
            select(Lead)
            .where(Lead.owner_id == owner_id, Lead.referrer_owner_id.is_not(None))
            .order_by(Lead.created_at)
            .limit(1)
        )
