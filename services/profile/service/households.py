"""Households: owners who live together (journeys cap contacts per household), and the dealer
hierarchy region -> dealer group -> dealer."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.errors import (
    AlreadyInHousehold,
    DealerGroupNotFound,
    DuplicateDealerGroupCode,
    HouseholdMemberNotFound,
    HouseholdNotFound,
    OwnerNotFound,
    UnknownReference,
)
from services.profile.models import DealerGroup, Household, HouseholdMember
from services.profile.repository import ProfileRepository
from services.profile.repository.engagement import EngagementRepository
from services.profile.schemas.engagement import (
    DealerGroupAssign,
    DealerGroupCreate,
    DealerGroupRead,
    HouseholdCreate,
    HouseholdDepartureRead,
    HouseholdRead,
)
from services.profile.service.dealers import get_dealer
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import (
    DealerGroupChanged,
    DealerGroupRegistered,
    HouseholdMembershipChanged,
)
from shared.errors import Forbidden
from shared.messaging.outbox import record_event
from shared.pagination import PageParams


async def create_household(
    session: AsyncSession, *, caller: Caller, data: HouseholdCreate
) -> HouseholdRead:
    _require_not_owner(caller)
    household = await ProfileRepository(session).add(
        Household(name=data.name, created_by_dealer_id=caller.dealer_id)
    )
    for index, owner_id in enumerate(data.owner_ids):
        await _join(session, caller, household.id, owner_id, field=f"body.owner_ids.{index}")
    return await _read(session, household)


async def add_member(
    session: AsyncSession, *, caller: Caller, household_id: uuid.UUID, owner_id: uuid.UUID
) -> HouseholdRead:
    _require_not_owner(caller)
    household = await _visible_household(session, caller, household_id)
    await _join(session, caller, household.id, owner_id, field="body.owner_id")
    return await _read(session, household)


async def get_household(
    session: AsyncSession, *, caller: Caller, household_id: uuid.UUID
) -> HouseholdRead:
    return await _read(session, await _visible_household(session, caller, household_id))


async def remove_member(
    session: AsyncSession,
    *,
    caller: Caller,
    household_id: uuid.UUID,
    owner_id: uuid.UUID,
    now: datetime,
) -> HouseholdDepartureRead:
    """The owner leaves the household, announced as joining was. Asked again, the answer is
    that they already left, and nothing changes."""
    household = await _visible_household(session, caller, household_id, former_members=True)
    _require_self_or_case_worker(caller, owner_id)
    if await ProfileRepository(session).get_owner(caller, owner_id) is None:
        raise OwnerNotFound.for_field("path.owner_id", f"owner {owner_id} not found")
    repository = EngagementRepository(session)
    if await _leave(session, owner_id, now=now, household_id=household.id):
        await repository.record_departure(household.id, owner_id, now)
        return HouseholdDepartureRead(
            household_id=household.id, owner_id=owner_id, left_at=now, already_left=False
        )
    departure = await repository.departure(household.id, owner_id)
    if departure is None:
        message = f"owner {owner_id} is not in the household"
        raise HouseholdMemberNotFound.for_field("path.owner_id", message)
    return HouseholdDepartureRead(
        household_id=household.id, owner_id=owner_id, left_at=departure.left_at, already_left=True
    )


async def forget_membership(session: AsyncSession, owner_id: uuid.UUID, *, now: datetime) -> int:
    """Erasure: the owner leaves their household (announced, so journeys stop counting them
    with it) and no record of their leaving one stays. Returns how many rows went."""
    left = await _leave(session, owner_id, now=now)
    return (left is not None) + await EngagementRepository(session).forget_departures(owner_id)


def _require_not_owner(caller: Caller) -> None:
    if caller.kind is CallerKind.OWNER:
        raise Forbidden("Households are recorded by dealers and customer service")
    if caller.kind is CallerKind.STAFF:
        caller.require_staff(StaffRole.CX_AGENT)


def _require_self_or_case_worker(caller: Caller, owner_id: uuid.UUID) -> None:
    """Whoever may put an owner in a household may take them out; so may the owner."""
    if caller.kind is not CallerKind.OWNER:
        _require_not_owner(caller)
    elif caller.owner_id != owner_id:
        raise Forbidden.for_field("path.owner_id", "an owner may take only themselves out")


async def _join(
    session: AsyncSession, caller: Caller, household_id: uuid.UUID, owner_id: uuid.UUID, *, field
) -> None:
    if await ProfileRepository(session).get_owner(caller, owner_id) is None:
        raise UnknownReference.for_field(field, f"owner {owner_id} not found")
    if await EngagementRepository(session).household_of(owner_id):
        raise AlreadyInHousehold(f"Owner {owner_id} already belongs to a household")
    member = HouseholdMember(owner_id=owner_id, household_id=household_id)
    session.add(member)
    await session.flush()
    await _announce(session, household_id, owner_id, joined=True, at=member.joined_at)


async def move_membership(
    session: AsyncSession, merged_id: uuid.UUID, survivor_id: uuid.UUID, *, now: datetime
) -> int:
    """A merged duplicate leaves its household and the survivor takes its place, unless the
    survivor has a household of its own (that one stands): journeys would otherwise contact
    the person as if they lived alone. Returns how many memberships moved (0 or 1)."""
    household_id = await _leave(session, merged_id, now=now)
    if household_id is None:
        return 0
    if await EngagementRepository(session).household_of(survivor_id) is not None:
        return 0
    session.add(HouseholdMember(owner_id=survivor_id, household_id=household_id, joined_at=now))
    await session.flush()
    await _announce(session, household_id, survivor_id, joined=True, at=now)
    return 1


async def _leave(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    now: datetime,
    household_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Takes the owner out of their household (only if it is `household_id`, when given) and
    announces it; returns the household they left (None: they were in none, or another)."""
    left = await EngagementRepository(session).leave_household(owner_id, household_id)
    if left is not None:
        await _announce(session, left, owner_id, joined=False, at=now)
    return left


async def _announce(
    session: AsyncSession,
    household_id: uuid.UUID,
    owner_id: uuid.UUID,
    *,
    joined: bool,
    at: datetime,
) -> None:
    await record_event(
        session,
        HouseholdMembershipChanged(
            household_id=household_id, owner_id=owner_id, joined=joined, changed_at=at
        ),
        subject=household_id,
        owner_id=owner_id,
    )


async def _visible_household(
    session: AsyncSession, caller: Caller, household_id: uuid.UUID, *, former_members=False
) -> Household:
    """A household is visible to whoever may see one of its members (with `former_members`,
    one of those who left it too: whoever took an owner out hears so when asking again)."""
    repository = EngagementRepository(session)
    household = await repository.household(household_id)
    if household is not None:
        people = await repository.household_members(household.id)
        if former_members:
            people += await repository.former_members(household.id)
        if await ProfileRepository(session).visible_owner_ids(caller, people):
            return household
    raise HouseholdNotFound.for_field("path.household_id", f"household {household_id} not found")


async def _read(session: AsyncSession, household: Household) -> HouseholdRead:
    members = await EngagementRepository(session).household_members(household.id)
    return HouseholdRead(
        id=household.id, name=household.name, member_ids=members, created_at=household.created_at
    )


# Dealer hierarchy


async def create_dealer_group(
    session: AsyncSession, *, caller: Caller, data: DealerGroupCreate
) -> DealerGroupRead:
    caller.require_staff(StaffRole.ADMIN)
    repository = EngagementRepository(session)
    if await repository.dealer_group_code_taken(data.code):
        raise DuplicateDealerGroupCode(f"Dealer group code {data.code!r} is already registered")
    group = await ProfileRepository(session).add(DealerGroup(**data.model_dump()))
    await record_event(
        session,
        DealerGroupRegistered(
            group_id=group.id, code=group.code, name=group.name, region=group.region
        ),
        subject=group.id,
    )
    return (await _read_groups(session, [group]))[0]


async def assign_dealer_group(
    session: AsyncSession,
    *,
    caller: Caller,
    dealer_id: uuid.UUID,
    data: DealerGroupAssign,
    now: datetime,
):
    """Puts a dealer in a group of its region (or out of its group). The gateway learns it
    from the event: the group's keys then see the dealer's records, the old group's no more."""
    caller.require_staff(StaffRole.ADMIN)
    dealer = await get_dealer(session, caller=caller, dealer_id=dealer_id)
    if data.group_id is not None:
        group = await EngagementRepository(session).get_dealer_group(caller, data.group_id)
        if group is None:
            raise UnknownReference.for_field("body.group_id", f"group {data.group_id} not found")
        if group.region != dealer.region:
            raise UnknownReference.for_field(
                "body.group_id", f"group is in {group.region}, the dealer in {dealer.region}"
            )
    if dealer.group_id == data.group_id:
        return dealer
    previous, dealer.group_id = dealer.group_id, data.group_id
    await session.flush()
    await record_event(
        session,
        DealerGroupChanged(
            dealer_id=dealer.id,
            code=dealer.code,
            name=dealer.name,
            region=dealer.region,
            group_id=dealer.group_id,
            previous_group_id=previous,
            changed_at=now,
        ),
        subject=dealer.id,
        dealer_id=dealer.id,
    )
    return dealer


async def list_dealer_groups(
    session: AsyncSession, *, caller: Caller, page: PageParams
) -> tuple[list[DealerGroupRead], int]:
    groups, total = await EngagementRepository(session).list_dealer_groups(caller, page)
    return await _read_groups(session, list(groups)), total


async def get_dealer_group(
    session: AsyncSession, *, caller: Caller, group_id: uuid.UUID
) -> DealerGroupRead:
    group = await EngagementRepository(session).get_dealer_group(caller, group_id)
    if group is None:
        raise DealerGroupNotFound(f"Dealer group {group_id} not found")
    return (await _read_groups(session, [group]))[0]


async def _read_groups(session: AsyncSession, groups: list[DealerGroup]) -> list[DealerGroupRead]:
    members = await EngagementRepository(session).dealers_in_groups([g.id for g in groups])
    return [
        DealerGroupRead.model_validate({**group.model_dump(), "dealer_ids": members[group.id]})
        for group in groups
    ]
