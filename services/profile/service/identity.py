"""Identity resolution: a DMS import, an app sign-up and a lead for the same person become one
owner, with a merge record saying what matched, what moved, who merged and why.

Only verified contacts match (service/resolution.py). A new owner whose verified contact is
another owner's verified contact is merged into that owner as it is registered; records that
share only unverified contacts are never matched. Here: a source vouching for a contact
later, the duplicates customer service sees, and the merges it makes explicitly.
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.errors import DuplicateExternalId, MergeRefused, UnknownReference
from services.profile.models import Owner
from services.profile.repository import ProfileRepository
from services.profile.repository.privacy import PrivacyRepository
from services.profile.schemas import OwnerCreate, OwnerRead
from services.profile.schemas.core import CONTACT_FLAGS
from services.profile.schemas.owner360 import (
    ContactVerification,
    DuplicateCandidate,
    MergeCreate,
    MergeRead,
)
from services.profile.service.owners import register_owner, require_own_dealer, visible_owner
from services.profile.service.personal import new_owner, read_owners
from services.profile.service.resolution import (
    contact_source,
    matched_on,
    merge_records,
    resolve_identity,
    vouch,
)
from services.profile.vault import Vault
from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden


async def create_owner(
    session: AsyncSession, *, caller: Caller, vault: Vault, data: OwnerCreate, now: datetime
) -> OwnerRead:
    """Dealers register their customers; CX staff register owners who reach us directly (the
    app's sign-ups among them). A verified contact that is already another owner's, verified,
    makes the new record that owner: the answer is the owner the person now is."""
    if caller.kind is CallerKind.OWNER:
        raise Forbidden("Owners cannot register other owners")
    if caller.kind is CallerKind.STAFF:
        caller.require_staff(StaffRole.CX_AGENT)
    require_own_dealer(caller)
    if caller.dealer_id and data.external_id:
        if await ProfileRepository(session).owner_by_external_id(
            caller.dealer_id, data.external_id
        ):
            raise DuplicateExternalId(f"Owner external id {data.external_id!r} is already used")
    source = contact_source(caller)
    owner = await new_owner(
        session, vault, data.model_dump(exclude={"external_id", *CONTACT_FLAGS})
    )
    vouch(owner, data.verified_contacts(), source=source, at=now)
    await register_owner(session, owner, dealer_id=caller.dealer_id, external_id=data.external_id)
    owner = await resolve_identity(session, owner, source=source, now=now)
    return (await read_owners(session, vault, [owner], caller=caller))[0]


async def verify_contact(
    session: AsyncSession,
    *,
    caller: Caller,
    vault: Vault,
    owner_id: uuid.UUID,
    data: ContactVerification,
    now: datetime,
) -> OwnerRead:
    """The caller vouches for one of the owner's contacts: the app after a one-time code, a
    dealer's system, or customer service. It matches nothing by itself: merges stay explicit."""
    source = contact_source(caller)
    if caller.is_staff:
        caller.require_staff(StaffRole.CX_AGENT)
    owner = await visible_owner(session, caller, owner_id)
    current = getattr(owner, f"{data.kind}_hash")
    if current is None or vault.contact_hash(data.kind, data.value) != current:
        raise UnknownReference.for_field("body.value", f"is not the owner's current {data.kind}")
    vouch(owner, [data.kind], source=source, at=now)
    return (await read_owners(session, vault, [owner], caller=caller))[0]


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
    merged_by = f"{caller.kind}:{caller.subject}"
    record = await merge_records(session, survivor, merged, matches, data.reason, merged_by, now)
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
        raise MergeRefused(
            "The two owners share no verified email or phone: nothing shows they are one"
        )
    return matches
