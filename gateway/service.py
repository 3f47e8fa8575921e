"""Key management use cases. They run in the caller's transaction and never commit."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import keys
from gateway.errors import DealerNotKnown, KeyAlreadyRevoked, KeyNotFound, TooManyActiveKeys
from gateway.models import ApiKey, KnownDealer, utc_now
from gateway.repository import GatewayRepository
from gateway.schemas import ApiKeyIssued, ApiKeyRead
from shared.auth import Caller, StaffRole
from shared.contracts.profile import DealerRegistered

MAX_ACTIVE_KEYS = 2  # two, so a dealer can roll a new key out before revoking the old


async def issue_key(
    session: AsyncSession, *, caller: Caller, dealer_id: uuid.UUID, pepper: str
) -> ApiKeyIssued:
    caller.require_staff(StaffRole.ADMIN)
    repository = GatewayRepository(session)
    if await repository.get_dealer(dealer_id) is None:
        raise DealerNotKnown(f"Dealer {dealer_id} is not known to the gateway")
    await repository.lock_dealer_keys(dealer_id)
    if await repository.count_active_keys(dealer_id) >= MAX_ACTIVE_KEYS:
        raise TooManyActiveKeys(
            f"Dealer {dealer_id} already has {MAX_ACTIVE_KEYS} active keys; revoke or rotate one"
        )
    return await _add_key(repository, dealer_id=dealer_id, caller=caller, pepper=pepper)


async def _add_key(
    repository: GatewayRepository,
    *,
    dealer_id: uuid.UUID,
    caller: Caller,
    pepper: str,
    replaces: str | None = None,
) -> ApiKeyIssued:
    issued = keys.new_key()
    stored = await repository.add_key(
        ApiKey(
            id=issued.key_id,
            dealer_id=dealer_id,
            secret_hash=keys.secret_hash(issued.secret, pepper),
            created_by=caller.subject,
            replaces=replaces,
        )
    )
    return ApiKeyIssued(**ApiKeyRead.model_validate(stored).model_dump(), key=issued.token)


async def list_keys(session: AsyncSession, *, caller: Caller, dealer_id: uuid.UUID) -> list[ApiKey]:
    caller.require_staff(StaffRole.ADMIN)
    repository = GatewayRepository(session)
    if await repository.get_dealer(dealer_id) is None:
        raise DealerNotKnown(f"Dealer {dealer_id} is not known to the gateway")
    return list(await repository.dealer_keys(dealer_id))


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
    return await _add_key(
        repository, dealer_id=old.dealer_id, caller=caller, pepper=pepper, replaces=old.id
    )


async def _active_key_for_update(repository: GatewayRepository, key_id: str) -> ApiKey:
    key = await repository.get_key(key_id, for_update=True)
    if key is None:
        raise KeyNotFound(f"API key {key_id} not found")
    if key.revoked_at is not None:
        raise KeyAlreadyRevoked(f"API key {key_id} was revoked at {key.revoked_at.isoformat()}")
    return key


async def record_dealer(session: AsyncSession, event: DealerRegistered) -> None:
    await GatewayRepository(session).upsert_dealer(
        KnownDealer(id=event.dealer_id, code=event.code, name=event.name, region=event.region)
    )
