"""Identity resolution: records of one person become one owner, with a merge record.

Only a verified contact identifies a person: each owner's email and phone record which
source vouched for them (the owner app, a dealer's system, customer service) and when. A
contact that changes is unverified again (service/personal.py).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import CONTACT_KINDS, ContactSource
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
from services.profile.repository.facts import FactsRepository
from services.profile.repository.privacy import PrivacyRepository
from services.profile.service.facts import refresh_owner
from services.profile.service.households import move_membership
from shared.auth import Caller, CallerKind
from shared.contracts.profile import OwnersMerged
from shared.database import every_dealer
from shared.errors import Forbidden
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


def contact_source(caller: Caller) -> ContactSource:
    """Who vouches for the contacts this caller sends."""
    match caller.kind:
        case CallerKind.OWNER:
            return ContactSource.APP
        case CallerKind.DEALER:
            return ContactSource.DMS
        case CallerKind.STAFF:
            return ContactSource.STAFF
    raise Forbidden("Contacts are vouched for by owners, dealers and customer service")


def vouch(owner: Owner, kinds: Iterable[str], *, source: ContactSource, at: datetime) -> None:
    """Records that `source` verified these contacts of the owner, as they are now; the first
    source to vouch for a contact stays on record until the contact changes."""
    for kind in kinds:
        if getattr(owner, f"{kind}_hash") and not getattr(owner, f"{kind}_verified_by"):
            setattr(owner, f"{kind}_verified_by", source.value)
            setattr(owner, f"{kind}_verified_at", at)


def matched_on(one: Owner, other: Owner) -> list[str]:
    """The contacts the two share, verified on both sides (an unverified one proves nothing)."""
    return [
        kind
        for kind in CONTACT_KINDS
        if (mine := _verified_hash(one, kind)) and mine == _verified_hash(other, kind)
    ]


def _verified_hash(owner: Owner, kind: str) -> str | None:
    return getattr(owner, f"{kind}_hash") if getattr(owner, f"{kind}_verified_by") else None


async def resolve_identity(
    session: AsyncSession, owner: Owner, *, source: ContactSource, now: datetime
) -> Owner:
    """The owner a newly registered record now is: itself, or the owner it was merged into."""
    return (await resolve_identities(session, [owner], source=source, now=now))[owner.id]


async def resolve_identities(
    session: AsyncSession, owners: list[Owner], *, source: ContactSource, now: datetime
) -> dict[uuid.UUID, Owner]:
    """New records whose verified contact belongs, verified, to exactly one other live owner
    (registered before, or earlier in the same batch) are that person: each is merged into
    them. Two candidates are left for customer service to tell apart. Returns the owner each
    record now is."""
    order = {owner.id: index for index, owner in enumerate(owners)}
    known = await PrivacyRepository(session).verified_holders(owners)
    resolved = {}
    for index, owner in enumerate(owners):
        candidates = [
            other
            for other in known
            if other.id != owner.id
            and other.merged_into is None
            and order.get(other.id, -1) < index
            and matched_on(other, owner)
        ]
        resolved[owner.id] = owner
        if len(candidates) == 1:
            (survivor,) = candidates
            matches = matched_on(survivor, owner)
            reason = f"verified {' and '.join(matches)} matched on registration ({source})"
            await merge_records(session, survivor, owner, matches, reason, f"system:{source}", now)
            resolved[owner.id] = survivor
    return resolved


async def merge_records(
    session: AsyncSession,
    survivor: Owner,
    merged: Owner,
    matches: list[str],
    reason: str,
    merged_by: str,
    now: datetime,
) -> OwnerMerge:
    # The duplicate's records at every dealer move, whichever dealer's request found it.
    async with every_dealer(session):
        moved = await _move(session, merged.id, survivor.id)
        moved["household_members"] = await move_membership(session, merged.id, survivor.id, now=now)
    merged.merged_into = survivor.id
    record = OwnerMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        matched_on=matches,
        moved=moved,
        reason=reason,
        merged_by=merged_by,
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
    return record


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
