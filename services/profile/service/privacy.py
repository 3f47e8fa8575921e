"""Privacy rights: erasure (profile shreds the owner's key and anonymises, every other
service erases and confirms on the request) and export (everything held, gathered from every
service). Events carry ids only, so the event streams hold nothing to erase."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.errors import ErasureRequestNotFound, OwnerErased
from services.profile.models import ErasureConfirmation, ErasureRequest, Owner
from services.profile.peers import PeerExports
from services.profile.repository.engagement import EngagementRepository
from services.profile.repository.facts import FactsRepository
from services.profile.repository.privacy import PrivacyRepository
from services.profile.schemas.owner360 import (
    AuditEntryRead,
    ErasureRequestRead,
    OwnerExport,
    ServiceConfirmation,
)
from services.profile.service.facts import refresh_owner
from services.profile.service.households import forget_membership
from services.profile.service.owner360 import owner_360
from services.profile.service.owners import require_owner_or_cx, visible_owner
from services.profile.service.personal import ERASED, audit
from services.profile.vault import Vault
from shared.auth import Caller, StaffRole
from shared.config import SERVICE_PORTS
from shared.contracts.profile import OwnerErasureRequested, ProfileErasureCompleted
from shared.idempotency.claims import forget_answers_about
from shared.messaging.outbox import record_event
from shared.pagination import PageParams

SERVICE = "profile"


async def request_erasure(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, now: datetime
) -> ErasureRequestRead:
    owner = await visible_owner(session, caller, owner_id)
    require_owner_or_cx(caller, owner.id)
    if owner.erased_at is not None:
        raise OwnerErased(f"Owner {owner.id} was already erased on {owner.erased_at:%Y-%m-%d}")
    request = ErasureRequest(
        owner_id=owner.id,
        requested_by=f"{caller.kind}:{caller.subject}",
        expected_services=sorted(SERVICE_PORTS),
        requested_at=now,
    )
    session.add(request)
    await session.flush()
    await record_event(
        session,
        OwnerErasureRequested(request_id=request.id, owner_id=owner.id, requested_at=now),
        subject=request.id,
        owner_id=owner.id,
    )
    erased = await _erase_profile_data(session, owner, now=now)
    await _confirm_own_erasure(session, request, erased, now=now)
    await audit(session, caller, [owner.id], action="erasure_requested", at=now)
    return await _read_request(session, request)


async def _erase_profile_data(session: AsyncSession, owner: Owner, *, now: datetime) -> int:
    """Destroys the key (crypto-shredding), blanks the personal fields and contact hashes, and
    keeps only what counts anonymously (orders, visits, event types and times, points)."""
    privacy = PrivacyRepository(session)
    await privacy.destroy_key(owner.id)
    owner.full_name, owner.email, owner.phone = ERASED, None, None
    owner.email_hash = owner.phone_hash = None
    owner.erased_at = now
    erased = 4 + await EngagementRepository(session).anonymise_events(owner.id)
    erased += await FactsRepository(session).forget_tags(owner.id)
    erased += await forget_answers_about(session, owner.id)
    erased += await forget_membership(session, owner.id, now=now)
    await refresh_owner(session, owner.id, now=now)  # leaves every segment, announced
    return erased


async def _confirm_own_erasure(
    session: AsyncSession, request: ErasureRequest, erased: int, *, now: datetime
) -> None:
    await PrivacyRepository(session).confirm(
        ErasureConfirmation(
            request_id=request.id, service=SERVICE, records_erased=erased, completed_at=now
        )
    )
    await record_event(
        session,
        ProfileErasureCompleted(
            request_id=request.id,
            owner_id=request.owner_id,
            service=SERVICE,
            records_erased=erased,
            completed_at=now,
        ),
        subject=request.id,
        owner_id=request.owner_id,
    )


async def get_erasure_request(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, request_id: uuid.UUID
) -> ErasureRequestRead:
    await visible_owner(session, caller, owner_id)
    require_owner_or_cx(caller, owner_id)
    request = await PrivacyRepository(session).erasure_request(request_id)
    if request is None or request.owner_id != owner_id:
        raise ErasureRequestNotFound(f"Erasure request {request_id} not found")
    return await _read_request(session, request)


async def _read_request(session: AsyncSession, request: ErasureRequest) -> ErasureRequestRead:
    confirmed = {c.service: c for c in await PrivacyRepository(session).confirmations(request.id)}
    services = [
        ServiceConfirmation(
            service=name,
            confirmed=name in confirmed,
            records_erased=confirmed[name].records_erased if name in confirmed else None,
            completed_at=confirmed[name].completed_at if name in confirmed else None,
        )
        for name in sorted({*request.expected_services, *confirmed})
    ]
    return ErasureRequestRead(
        id=request.id,
        owner_id=request.owner_id,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        status="completed" if request.completed_at else "pending",
        completed_at=request.completed_at,
        services=services,
    )


async def export_owner(
    session: AsyncSession,
    *,
    caller: Caller,
    caller_token: str,
    vault: Vault,
    peers: PeerExports,
    owner_id: uuid.UUID,
    now: datetime,
) -> OwnerExport:
    """Everything the platform holds about the owner, as one document."""
    owner = await visible_owner(session, caller, owner_id)
    require_owner_or_cx(caller, owner.id)
    view = await owner_360(session, caller=caller, vault=vault, owner_id=owner.id, now=now)
    engagement = EngagementRepository(session)
    events, _ = await engagement.events_of(owner.id, PageParams(limit=100_000))
    facts = FactsRepository(session)
    profile = view.model_dump(mode="json") | {
        "interaction_events": [e.model_dump(mode="json") for e in events],
        "consent_history": [
            e.model_dump(mode="json") for e in await engagement.consent_history(owner.id)
        ],
        "points_ledger": [e.model_dump(mode="json") for e in await facts.points_entries(owner.id)],
        "household_departures": [
            d.model_dump(mode="json") for d in await engagement.departures_of(owner.id)
        ],
        "merges": [
            m.model_dump(mode="json") for m in await PrivacyRepository(session).merges_of(owner.id)
        ],
        "erasure_requests": [
            (await _read_request(session, r)).model_dump(mode="json")
            for r in await PrivacyRepository(session).erasure_requests_of(owner.id)
        ],
    }
    gathered = await peers.gather(owner.id, caller_token)
    await audit(session, caller, [owner.id], action="export", at=now)
    return OwnerExport(
        owner_id=owner.id,
        generated_at=now,
        profile=profile,
        services=gathered.services,
        missing=gathered.missing,
    )


async def audit_log(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, page: PageParams
) -> list[AuditEntryRead]:
    caller.require_staff(StaffRole.ADMIN)
    await visible_owner(session, caller, owner_id)
    entries = await PrivacyRepository(session).audit_entries(owner_id, page)
    return [AuditEntryRead.model_validate(entry) for entry in entries]
