"""Routes of the owner 360 view, loyalty, identity merges and privacy rights."""

import uuid

from fastapi import APIRouter, status

from services.profile.deps import CallerToken, Now, OwnerVault, Peers, Settings
from services.profile.schemas import OwnerRead
from services.profile.schemas.owner360 import (
    AuditEntryRead,
    ContactVerification,
    DuplicateCandidate,
    ErasureRequestRead,
    MergeCreate,
    MergeRead,
    Owner360,
    OwnerExport,
    PointsRead,
    Redemption,
    ReferralCodeRead,
)
from services.profile.service import identity, loyalty, owner360, privacy
from shared.dependencies import CurrentCaller, Paging, Session

router = APIRouter()


@router.get("/owners/{owner_id}/360", response_model=Owner360)
async def get_owner_360(
    owner_id: uuid.UUID, session: Session, caller: CurrentCaller, vault: OwnerVault, now: Now
):
    """The owner whole, from profile's records and its projections of other services' events."""
    return await owner360.owner_360(session, caller=caller, vault=vault, owner_id=owner_id, now=now)


@router.get("/owners/{owner_id}/points", response_model=PointsRead)
async def get_points(owner_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await loyalty.points_of(session, caller=caller, owner_id=owner_id)


@router.post("/owners/{owner_id}/points/redemptions", response_model=PointsRead)
async def redeem_points(
    owner_id: uuid.UUID, body: Redemption, session: Session, caller: CurrentCaller, now: Now
):
    return await loyalty.redeem(session, caller=caller, owner_id=owner_id, data=body, now=now)


@router.get("/owners/{owner_id}/referral-code", response_model=ReferralCodeRead)
async def get_referral_code(
    owner_id: uuid.UUID, session: Session, caller: CurrentCaller, settings: Settings
):
    """The owner's referral code and link: a lead created with it that buys earns the owner
    points."""
    return await loyalty.owner_referral_code(
        session, caller=caller, owner_id=owner_id, link_base=settings.referral_link_base
    )


@router.post("/owners/{owner_id}/contact-verifications", response_model=OwnerRead)
async def verify_contact(
    owner_id: uuid.UUID,
    body: ContactVerification,
    session: Session,
    caller: CurrentCaller,
    vault: OwnerVault,
    now: Now,
):
    """The caller vouches for the owner's current email or phone (the app after a one-time
    code, a dealer's system, customer service): it then identifies the owner in matching."""
    return await identity.verify_contact(
        session, caller=caller, vault=vault, owner_id=owner_id, data=body, now=now
    )


@router.get("/owners/{owner_id}/duplicates", response_model=list[DuplicateCandidate])
async def list_duplicates(owner_id: uuid.UUID, session: Session, caller: CurrentCaller):
    """Other owner records with the same verified email or phone, verified there too:
    candidates for an explicit merge."""
    return await identity.duplicates(session, caller=caller, owner_id=owner_id)


@router.post(
    "/owners/{owner_id}/merges", status_code=status.HTTP_201_CREATED, response_model=MergeRead
)
async def merge_owner(
    owner_id: uuid.UUID, body: MergeCreate, session: Session, caller: CurrentCaller, now: Now
):
    """Merges `merged_owner_id` into this owner, recording what matched and what moved."""
    return await identity.merge(session, caller=caller, survivor_id=owner_id, data=body, now=now)


@router.post(
    "/owners/{owner_id}/erasure-requests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ErasureRequestRead,
)
async def request_erasure(owner_id: uuid.UUID, session: Session, caller: CurrentCaller, now: Now):
    """Profile erases at once; every other service confirms on the request as it finishes."""
    return await privacy.request_erasure(session, caller=caller, owner_id=owner_id, now=now)


@router.get("/owners/{owner_id}/erasure-requests/{request_id}", response_model=ErasureRequestRead)
async def get_erasure_request(
    owner_id: uuid.UUID, request_id: uuid.UUID, session: Session, caller: CurrentCaller
):
    return await privacy.get_erasure_request(
        session, caller=caller, owner_id=owner_id, request_id=request_id
    )


@router.get("/owners/{owner_id}/export", response_model=OwnerExport)
async def export_owner(
    owner_id: uuid.UUID,
    session: Session,
    caller: CurrentCaller,
    token: CallerToken,
    vault: OwnerVault,
    peers: Peers,
    now: Now,
):
    """Everything the platform holds about the owner; services that did not answer are listed
    under `missing`."""
    return await privacy.export_owner(
        session,
        caller=caller,
        caller_token=token,
        vault=vault,
        peers=peers,
        owner_id=owner_id,
        now=now,
    )


@router.get("/owners/{owner_id}/audit", response_model=list[AuditEntryRead])
async def get_audit_log(
    owner_id: uuid.UUID, session: Session, caller: CurrentCaller, paging: Paging
):
    """Who on the staff read this owner's personal data, and when (admins only)."""
    return await privacy.audit_log(session, caller=caller, owner_id=owner_id, page=paging)
