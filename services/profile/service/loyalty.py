"""Points ledger (never negative, every entry with its cause, each cause counted once),
referral codes and super-user recognition."""

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import PointsCause, points_problem
from services.profile.errors import InsufficientPoints
from services.profile.models import Lead, PointsEntry, ReferralCode
from services.profile.repository.facts import FactsRepository
from services.profile.repository.loyalty import LoyaltyRepository
from services.profile.schemas.owner360 import (
    PointsEntryRead,
    PointsRead,
    Redemption,
    ReferralCodeRead,
)
from services.profile.service.owners import require_owner_or_cx, visible_owner
from shared.auth import Caller

SUPER_USER_TAG = "super_user"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Grant:
    """Points for (or, negative, spent by) an owner; `reference` makes its cause count once."""

    owner_id: uuid.UUID
    points: int
    cause: PointsCause
    reference: str
    note: str | None = None


async def add_points(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    points: int,
    cause: PointsCause,
    reference: str,
    now: datetime,
    note: str | None = None,
) -> PointsEntry | None:
    """Appends one ledger entry; None when `reference` was already counted."""
    entries = await add_grants(session, [Grant(owner_id, points, cause, reference, note)], now=now)
    return entries[0] if entries else None


async def add_grants(
    session: AsyncSession, grants: Sequence[Grant], *, now: datetime
) -> list[PointsEntry]:
    """Appends a ledger entry per grant whose reference is not counted yet, in a few queries
    for any number. The facts rows are locked, so concurrent entries serialise and a balance
    can never go below zero."""
    if not grants:
        return []
    repository = FactsRepository(session)
    owners = {grant.owner_id for grant in grants}
    await repository.ensure_many(owners)
    facts = await repository.lock_many(owners)
    counted = await repository.counted_references([grant.reference for grant in grants])
    entries = []
    for grant in grants:
        if grant.reference in counted:
            continue
        counted.add(grant.reference)
        balance = facts[grant.owner_id]
        if problem := points_problem(balance.points_balance, grant.points):
            raise InsufficientPoints(problem)
        balance.points_balance += grant.points
        entries.append(
            PointsEntry(
                owner_id=grant.owner_id,
                points=grant.points,
                balance_after=balance.points_balance,
                cause=grant.cause,
                reference=grant.reference,
                note=grant.note,
                created_at=now,
            )
        )
    session.add_all(entries)
    await session.flush()
    return entries


async def recognise_super_user(
    session: AsyncSession, owner_id: uuid.UUID, *, now: datetime, bonus: int = 500
) -> None:
    """Entering the super-user segment earns a tag and, once per owner, a bonus."""
    repository = FactsRepository(session)
    await repository.tag(owner_id, SUPER_USER_TAG, "recognition", now)
    facts = await repository.for_update(owner_id)
    if facts is not None:  # segments read the facts row: keep its tags in step
        facts.tags = await repository.tags(owner_id)
    await add_points(
        session,
        owner_id=owner_id,
        points=bonus,
        cause=PointsCause.SUPER_USER,
        reference=f"super_user:{owner_id}",
        now=now,
        note="recognised as a super user",
    )


async def referral_code(session: AsyncSession, owner_id: uuid.UUID) -> ReferralCode:
    repository = LoyaltyRepository(session)
    existing = await repository.referral_code_of(owner_id)
    if existing:
        return existing
    code = ReferralCode(
        code="".join(secrets.choice(_CODE_ALPHABET) for _ in range(8)), owner_id=owner_id
    )
    session.add(code)
    await session.flush()
    return code


async def reward_referrer(
    session: AsyncSession, *, buyer_id: uuid.UUID, points: int, now: datetime
) -> uuid.UUID | None:
    """The buyer's delivered car pays out the referral of the buyer's earliest referred lead;
    returns the referrer rewarded (once per lead)."""
    lead = await LoyaltyRepository(session).referred_lead_of(buyer_id)
    return await reward_referral(session, lead, points=points, now=now)


async def reward_referral(
    session: AsyncSession, lead: Lead | None, *, points: int, now: datetime
) -> uuid.UUID | None:
    """A referred lead whose buyer took delivery pays its referrer, once; returns the
    referrer rewarded."""
    if lead is None or lead.referrer_owner_id is None:
        return None
    entry = await add_points(
        session,
        owner_id=lead.referrer_owner_id,
        points=points,
        cause=PointsCause.REFERRAL,
        reference=f"referral:{lead.id}",
        now=now,
        note=f"referred lead {lead.id} bought a car",
    )
    return lead.referrer_owner_id if entry else None


async def points_of(session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID) -> PointsRead:
    await visible_owner(session, caller, owner_id)
    return await _points_read(session, owner_id)


async def redeem(
    session: AsyncSession,
    *,
    caller: Caller,
    owner_id: uuid.UUID,
    data: Redemption,
    now: datetime,
) -> PointsRead:
    """Spends points on a coupon; 409 when the balance is short. A retried redemption (same
    id) spends nothing more."""
    await visible_owner(session, caller, owner_id)
    require_owner_or_cx(caller, owner_id)
    await add_points(
        session,
        owner_id=owner_id,
        points=-data.points,
        cause=PointsCause.REDEMPTION,
        reference=f"redemption:{owner_id}:{data.id}",
        now=now,
        note=f"coupon {data.coupon}",
    )
    return await _points_read(session, owner_id)


async def owner_referral_code(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, link_base: str
) -> ReferralCodeRead:
    """The owner's code and the link that carries it (`link_base` as the settings hold it:
    an http(s) address without a trailing slash)."""
    await visible_owner(session, caller, owner_id)
    require_owner_or_cx(caller, owner_id)
    code = await referral_code(session, owner_id)
    return ReferralCodeRead(owner_id=owner_id, code=code.code, link=f"{link_base}/{code.code}")


async def _points_read(session: AsyncSession, owner_id: uuid.UUID) -> PointsRead:
    repository = FactsRepository(session)
    facts = await repository.get(owner_id)
    return PointsRead(
        owner_id=owner_id,
        balance=facts.points_balance if facts else 0,
        entries=[
            PointsEntryRead.model_validate(e) for e in await repository.points_entries(owner_id)
        ],
    )
