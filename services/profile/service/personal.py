"""Owners' personal fields: sealed with the owner's own key on the way in, opened on the way
out (or shown as erased once the key is destroyed), masked for staff roles that do not need
them, and every staff read audited (with the other services' staff exports, which they
announce)."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import mask_email, mask_name, mask_phone
from services.profile.models import AuditEntry, Owner, OwnerKey, utc_now
from services.profile.repository.privacy import PrivacyRepository
from services.profile.schemas import OwnerRead
from services.profile.vault import Vault
from shared.auth import Caller, StaffRole
from shared.contracts.privacy import OwnerDataExported

PERSONAL_FIELDS = ("full_name", "email", "phone")
ERASED = "[erased]"
_IDENTITY_ROLES = frozenset({StaffRole.CX_AGENT, StaffRole.ADMIN})
_MASKS = {"full_name": mask_name, "email": mask_email, "phone": mask_phone}


def sees_identity(caller: Caller) -> bool:
    """Owners and their dealers see names and contacts; staff only in roles that need them."""
    return not caller.is_staff or bool(caller.roles & _IDENTITY_ROLES)


def shown_to(caller: Caller, personal: dict[str, Any]) -> dict[str, Any]:
    """The personal fields as the caller may see them: masked unless it `sees_identity`."""
    if sees_identity(caller):
        return personal
    return {name: _MASKS[name](value) for name, value in personal.items()}


def _sealed(vault: Vault, wrapped: bytes, owner_id: uuid.UUID, values: dict) -> dict[str, Any]:
    return {
        **{name: vault.seal(wrapped, owner_id, values.get(name)) for name in PERSONAL_FIELDS},
        "email_hash": vault.contact_hash("email", values.get("email")),
        "phone_hash": vault.contact_hash("phone", values.get("phone")),
    }


async def new_owner(session: AsyncSession, vault: Vault, values: dict[str, Any]) -> Owner:
    """Adds an owner whose personal fields are sealed with a key made for them."""
    return (await new_owners(session, vault, [values]))[0]


async def new_owners(
    session: AsyncSession, vault: Vault, values: Sequence[dict[str, Any]]
) -> list[Owner]:
    """Adds owners, each sealed with a key of its own, in one flush (a DMS batch's worth)."""
    owners = []
    for fields in values:
        owner_id = uuid.uuid4()
        wrapped = vault.new_wrapped_key(owner_id)
        session.add(OwnerKey(owner_id=owner_id, wrapped_key=wrapped))
        others = {k: v for k, v in fields.items() if k not in PERSONAL_FIELDS}
        owners.append(Owner(id=owner_id, **others, **_sealed(vault, wrapped, owner_id, fields)))
    session.add_all(owners)
    await session.flush()
    return owners


async def update_personal(
    session: AsyncSession, vault: Vault, owner: Owner, values: dict[str, Any]
) -> bool:
    """Reseals the personal fields that differ; returns whether any did."""
    current = (await personal_of(session, vault, [owner]))[owner.id]
    if all(current[name] == values.get(name) for name in PERSONAL_FIELDS):
        return False
    wrapped = (await PrivacyRepository(session).keys_of([owner.id]))[owner.id]
    for name, value in _sealed(vault, wrapped, owner.id, values).items():
        if name.endswith("_hash") and getattr(owner, name) != value:
            kind = name.removesuffix("_hash")  # a new contact: what vouched for the old is void
            setattr(owner, f"{kind}_verified_by", None)
            setattr(owner, f"{kind}_verified_at", None)
        setattr(owner, name, value)
    return True


async def personal_of(
    session: AsyncSession, vault: Vault, owners: Sequence[Owner]
) -> dict[uuid.UUID, dict[str, str | None]]:
    keys = await PrivacyRepository(session).keys_of([owner.id for owner in owners])
    return {
        owner.id: {
            name: _open(vault, keys.get(owner.id), owner, getattr(owner, name))
            for name in PERSONAL_FIELDS
        }
        for owner in owners
    }


def _open(vault: Vault, wrapped: bytes | None, owner: Owner, value: str | None) -> str | None:
    if owner.erased_at is not None:
        return ERASED if value is not None else None
    if value is None or not vault.is_sealed(value):
        return value  # recorded before personal fields were sealed
    if wrapped is None:  # the key was destroyed: nothing readable is left
        return ERASED
    return vault.open(wrapped, owner.id, value)


async def read_owners(
    session: AsyncSession, vault: Vault, owners: Sequence[Owner], *, caller: Caller
) -> list[OwnerRead]:
    """The owners as the API shows them; a staff caller's read is written to the audit log."""
    personal = await personal_of(session, vault, owners)
    await audit(session, caller, [owner.id for owner in owners], action="read")
    return [
        OwnerRead.model_validate({**owner.model_dump(), **shown_to(caller, personal[owner.id])})
        for owner in owners
    ]


async def audit(
    session: AsyncSession,
    caller: Caller,
    owner_ids: Sequence[uuid.UUID],
    *,
    action: str,
    at: datetime | None = None,
) -> None:
    if not caller.is_staff:
        return
    moment = at or utc_now()
    session.add_all(
        AuditEntry(
            actor=caller.subject,
            actor_roles=sorted(caller.roles),
            owner_id=owner_id,
            action=action,
            at=moment,
        )
        for owner_id in owner_ids
    )
    await session.flush()


async def audit_export_elsewhere(
    session: AsyncSession, event: OwnerDataExported, *, entry_id: uuid.UUID
) -> None:
    """Another service's staff export, in the owner's log once: the entry takes the event's id.
    Written whether or not profile knows the owner, as an audit log keeps what it is told."""
    await PrivacyRepository(session).add_audit_entry(
        AuditEntry(
            id=entry_id,
            actor=event.actor,
            actor_roles=event.actor_roles,
            owner_id=event.owner_id,
            action="export",
            at=event.exported_at,
            source=event.service,
        )
    )
