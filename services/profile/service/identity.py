"""Identity resolution: a DMS import, an app sign-up and a lead for the same person (the same
email or phone, compared by keyed hash) are merged into one owner — explicitly, by customer
service, with a merge record saying what matched, what moved, who merged and why."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.errors import MergeRefused, UnknownReference
from services.profile.models import (
    BehaviourSnapshot,
    ConsentEntry,
    FeedbackScore,
    InteractionEvent,
    Lead,
    Order,
    Owner,
    OwnerMerge,
    PointsEntry,
    ServiceDue,
    ServiceVisit,
    TicketProjection,
    Vehicle,
    VehicleRole,
)
from services.profile.repository import ProfileRepository
from services.profile.repository.facts import FactsRepository
from services.profile.repository.privacy import PrivacyRepository
from services.profile.schemas.owner360 import DuplicateCandidate, MergeCreate, MergeRead
from services.profile.service.facts import refresh_owner
from services.profile.service.owners import visible_owner
from shared.auth import Caller, StaffRole
from shared.contracts.profile import OwnersMerged
from shared.messaging.outbox import record_event

# Rows that simply follow the person to the surviving record.
_MOVED = (
    Vehicle,
    VehicleRole,
    Order,
    ServiceVisit,
    InteractionEvent,
    Lead,
    ConsentEntry,
    PointsEntry,
    FeedbackScore,
    TicketProjection,
    BehaviourSnapshot,
    ServiceDue,
)


def matched_on(one: Owner, other: Owner) -> list[str]:
    return [
        kind
        for kind, a, b in (
            ("email", one.email_hash, other.email_hash),
            ("phone", one.phone_hash, other.phone_hash),
        )
        if a and a == b
    ]


async def duplicates(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID
) -> list[DuplicateCandidate]:
    caller.require_staff(StaffRole.CX_AGENT)
    owner = await visible_owner(session, caller, owner_id)
    repository = ProfileRepository(session)
    return [
        DuplicateCandidate(owner_id=other.id, matched_on=matched_on(owner, other))
        for other in await PrivacyRepository(session).same_person(owner)
        if await repository.get_owner(caller, other.id)
    ]


async def merge(
    session: AsyncSession,
    *,
    caller: Caller,
    survivor_id: uuid.UUID,
    data: MergeCreate,
    now: datetime,
) -> MergeRead:
    caller.require_staff(StaffRole.CX_AGENT)
    survivor = await visible_owner(session, caller, survivor_id)
    merged = await ProfileRepository(session).get_owner(caller, data.merged_owner_id)
    if merged is None:
        raise UnknownReference.for_field(
            "body.merged_owner_id", f"owner {data.merged_owner_id} not found"
        )
    matches = _merge_problem_or_matches(survivor, merged)
    moved = await _move(session, merged.id, survivor.id)
    merged.merged_into = survivor.id
    record = OwnerMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        matched_on=matches,
        moved=moved,
        reason=data.reason,
        merged_by=f"{caller.kind}:{caller.subject}",
        merged_at=now,
    )
    session.add(record)
    await record_event(
        session,
        OwnersMerged(
            survivor_owner_id=survivor.id,
            merged_owner_id=merged.id,
            matched_on=matches,
            merged_at=now,
        ),
        subject=survivor.id,
        owner_id=survivor.id,
    )
    for owner_id in (merged.id, survivor.id):
        await refresh_owner(session, owner_id, now=now)
    return MergeRead.model_validate(record)


def _merge_problem_or_matches(survivor: Owner, merged: Owner) -> list[str]:
    if survivor.id == merged.id:
        raise MergeRefused("An owner cannot be merged into themselves")
    for owner in (survivor, merged):
        if owner.merged_into is not None:
            raise MergeRefused(f"Owner {owner.id} was already merged into {owner.merged_into}")
        if owner.erased_at is not None:
            raise MergeRefused(f"Owner {owner.id} was erased")
    matches = matched_on(survivor, merged)
    if not matches:
        raise MergeRefused("The two owners share no email or phone: nothing shows they are one")
    return matches


async def _move(session: AsyncSession, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> dict:
    """Re-points the duplicate's records at the survivor; points and links are combined."""
    privacy = PrivacyRepository(session)
    facts = FactsRepository(session)
    await privacy.clear_clashing_client_ids(merged_id, survivor_id)
    moved = await privacy.move_owner_rows(_MOVED, merged_id, survivor_id)
    moved["owner_dealers"] = await privacy.move_dealer_links(merged_id, survivor_id)
    moved["owner_tags"] = await privacy.move_tags(merged_id, survivor_id)
    moved["consents"] = await privacy.move_newer_consents(merged_id, survivor_id)
    await facts.ensure(survivor_id)
    merged_facts = await facts.for_update(merged_id)
    survivor_facts = await facts.for_update(survivor_id)
    if merged_facts and survivor_facts and merged_facts.points_balance:
        survivor_facts.points_balance += merged_facts.points_balance
        merged_facts.points_balance = 0
    return moved
