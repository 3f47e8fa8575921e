"""Key management use cases. They run in the caller's transaction and never commit."""

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import keys
from gateway.errors import (
    DealerGroupNotKnown,
    DealerNotKnown,
    KeyAlreadyRevoked,
    KeyNotFound,
    TooManyActiveKeys,
)
from gateway.models import ApiKey, KnownDealer, KnownDealerGroup, utc_now
from gateway.repository import GatewayRepository
from gateway.schemas import ApiKeyIssued, ApiKeyRead, KeyHolder
from shared.auth import Caller, StaffRole
from shared.contracts.profile import DealerGroupChanged, DealerGroupRegistered, DealerRegistered

MAX_ACTIVE_KEYS = 2  # two, so a holder can roll a new key out before revoking the old


async def issue_key(
    session: AsyncSession, *, caller: Caller, holder: KeyHolder, pepper: str
) -> ApiKeyIssued:
    """A key for a dealer, or for a dealer group (it sees every dealer of the group)."""
    caller.require_staff(StaffRole.ADMIN)
    repository = GatewayRepository(session)
    await _require_known(repository, holder)
    await repository.lock_holder_keys(holder)
    if await repository.count_active_keys(holder) >= MAX_ACTIVE_KEYS:
        raise TooManyActiveKeys(
            f"{holder} already has {MAX_ACTIVE_KEYS} active keys; revoke or rotate one"
        )
    return await _add_key(repository, holder=holder, caller=caller, pepper=pepper)


async def _add_key(
    repository: GatewayRepository,
    *,
    holder: KeyHolder,
    caller: Caller,
    pepper: str,
    replaces: str | None = None,
) -> ApiKeyIssued:
    issued = keys.new_key()
    stored = await repository.add_key(
        ApiKey(
            id=issued.key_id,
            dealer_id=holder.dealer_id,
            dealer_group_id=holder.dealer_group_id,
            secret_hash=keys.secret_hash(issued.secret, pepper),
            created_by=caller.subject,
            replaces=replaces,
        )
    )
    return ApiKeyIssued(**ApiKeyRead.model_validate(stored).model_dump(), key=issued.token)


async def list_keys(session: AsyncSession, *, caller: Caller, holder: KeyHolder) -> list[ApiKey]:
    caller.require_staff(StaffRole.ADMIN)
    repository = GatewayRepository(session)
    await _require_known(repository, holder)
    return list(await repository.holder_keys(holder))


async def _require_known(repository: GatewayRepository, holder: KeyHolder) -> None:
    if not await repository.holder_known(holder):
        error = DealerGroupNotKnown if holder.dealer_group_id else DealerNotKnown
        raise error(f"{holder} is not known to the gateway")


async def revoke_key(session: AsyncSession, *, caller: Caller, key_id: str) -> ApiKey:
    caller.require_staff(StaffRole.ADMIN)
    repository = GatewayRepository(session)
    key = await _active_key_for_update(repository, key_id)
    key.revoked_at = utc_now()
    await repository.announce_key_change(key_id)
    return key


async def rotate_key(
    session: AsyncSession, *, caller: Caller, key_id: str, pepper: str
) -> ApiKeyIssued:
    """Issues the replacement and revokes the old key in one step."""
    caller.require_staff(StaffRole.ADMIN)
    repository = GatewayRepository(session)
    old = await _active_key_for_update(repository, key_id)
    old.revoked_at = utc_now()
    await repository.announce_key_change(key_id)
    holder = KeyHolder(dealer_id=old.dealer_id, dealer_group_id=old.dealer_group_id)
    return await _add_key(repository, holder=holder, caller=caller, pepper=pepper, replaces=old.id)


async def _active_key_for_update(repository: GatewayRepository, key_id: str) -> ApiKey:
    key = await repository.get_key(key_id, for_update=True)
    if key is None:
        raise KeyNotFound(f"API key {key_id} not found")
    if key.revoked_at is not None:
        raise KeyAlreadyRevoked(f"API key {key_id} was revoked at {key.revoked_at.isoformat()}")
    return key


# What the gateway learns from profile: dealers and the dealer hierarchy


async def record_dealer(session: AsyncSession, event: DealerRegistered) -> None:
    await GatewayRepository(session).upsert_dealer(
        KnownDealer(id=event.dealer_id, code=event.code, name=event.name, region=event.region)
    )


async def record_dealer_group(session: AsyncSession, event: DealerGroupRegistered) -> None:
    await GatewayRepository(session).upsert_dealer_group(
        KnownDealerGroup(id=event.group_id, code=event.code, name=event.name, region=event.region)
    )


async def record_dealer_group_change(session: AsyncSession, event: DealerGroupChanged) -> None:
    """Moves the dealer between groups (a change older than the one applied is ignored), and
    makes every replica check the keys of the groups it left and joined afresh."""
    repository = GatewayRepository(session)
    await repository.upsert_dealer(
        KnownDealer(id=event.dealer_id, code=event.code, name=event.name, region=event.region)
    )
    dealer = await repository.dealer_for_update(event.dealer_id)
    assert dealer is not None
    if dealer.group_changed_at and dealer.group_changed_at >= event.changed_at:
        return
    affected = {dealer.group_id, event.group_id} - {None}
    dealer.group_id, dealer.group_changed_at = event.group_id, event.changed_at
    await session.flush()
    await repository.announce_group_change(affected)
