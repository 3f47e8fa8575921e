import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import DealerRelation
from services.profile.errors import OwnerNotFound
from services.profile.models import Owner
from services.profile.repository import ProfileRepository
from services.profile.repository.facts import FactsRepository
from services.profile.schemas import OwnerRead
from services.profile.service.announcements import owner_registered
from services.profile.service.personal import read_owners
from services.profile.vault import Vault
from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden
from shared.messaging.outbox import record_envelopes
from shared.pagination import PageParams


async def register_owner(
    session: AsyncSession, owner: Owner, *, dealer_id: uuid.UUID | None, external_id: str | None
) -> None:
    """Links a newly added owner to its dealer, starts its facts row and announces it."""
    await FactsRepository(session).ensure(owner.id)
    if dealer_id:
        await ProfileRepository(session).link_owner(
            owner.id, dealer_id, DealerRelation.REGISTERED, external_id
        )
    await record_envelopes(session, [owner_registered(owner, dealer_id=dealer_id)])


async def list_owners(
    session: AsyncSession, *, caller: Caller, vault: Vault, page: PageParams, city: str | None
) -> tuple[list[OwnerRead], int]:
    owners, total = await ProfileRepository(session).list_owners(caller, page, city=city)
    return await read_owners(session, vault, owners, caller=caller), total


async def visible_owner(session: AsyncSession, caller: Caller, owner_id: uuid.UUID) -> Owner:
    """The owner if the caller may see them (404 otherwise, as for a record that is not there)."""
    owner = await ProfileRepository(session).get_owner(caller, owner_id)
    if owner is None:
        raise OwnerNotFound(f"Owner {owner_id} not found")
    return owner


def require_own_dealer(caller: Caller) -> None:
    """What a dealer records becomes that dealer's: a dealer group's key names no one dealer."""
    if caller.kind is CallerKind.DEALER and caller.dealer_id is None:
        raise Forbidden("A dealer group's key cannot record this: the dealer's own key does")


def require_owner_or_cx(caller: Caller, owner_id: uuid.UUID) -> None:
    """What is the owner's own to ask for (points, export, erasure): the owner themselves, or
    customer service on their behalf."""
    if caller.kind is CallerKind.OWNER and caller.owner_id == owner_id:
        return
    if caller.kind is CallerKind.DEALER:
        raise Forbidden("Only the owner or customer service may do this")
    caller.require_staff(StaffRole.CX_AGENT)


async def get_owner(
    session: AsyncSession, *, caller: Caller, vault: Vault, owner_id: uuid.UUID
) -> OwnerRead:
    owner = await visible_owner(session, caller, owner_id)
    return (await read_owners(session, vault, [owner], caller=caller))[0]
