"""Routes of segments: definitions, preview, recomputation, members, an owner's segments."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, status

from services.profile.schemas.segments import (
    AttributeRead,
    MemberPage,
    MembershipRead,
    RecomputeResult,
    SegmentCreate,
    SegmentPage,
    SegmentPreview,
    SegmentPreviewRequest,
    SegmentRead,
    SegmentUpdate,
)
from services.profile.service import segments
from shared.dependencies import CurrentCaller, Paging, Session

router = APIRouter()


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/segment-attributes", response_model=list[AttributeRead])
async def list_segment_attributes(caller: CurrentCaller):
    """What a condition may name, with the operators each type allows."""
    return segments.attributes()


@router.post("/segments/preview", response_model=SegmentPreview)
async def preview_segment(body: SegmentPreviewRequest, session: Session, caller: CurrentCaller):
    """How many owners match, with a sample and why, before saving anything."""
    return await segments.preview(session, caller=caller, data=body, now=_now())


@router.post("/segments", status_code=status.HTTP_201_CREATED, response_model=SegmentRead)
async def create_segment(body: SegmentCreate, session: Session, caller: CurrentCaller):
    return await segments.create_segment(session, caller=caller, data=body, now=_now())


@router.get("/segments", response_model=SegmentPage)
async def list_segments(session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await segments.list_segments(session, caller=caller, page=paging)
    return SegmentPage(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/segments/{key}", response_model=SegmentRead)
async def get_segment(key: str, session: Session, caller: CurrentCaller):
    return await segments.get_segment(session, caller=caller, key=key)


@router.put("/segments/{key}", response_model=SegmentRead)
async def update_segment(key: str, body: SegmentUpdate, session: Session, caller: CurrentCaller):
    return await segments.update_segment(session, caller=caller, key=key, data=body, now=_now())


@router.post("/segments/{key}/recompute", response_model=RecomputeResult)
async def recompute_segment(key: str, session: Session, caller: CurrentCaller):
    return await segments.recompute(session, caller=caller, key=key, now=_now())


@router.get("/segments/{key}/members", response_model=MemberPage)
async def list_segment_members(key: str, session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await segments.list_members(session, caller=caller, key=key, page=paging)
    return MemberPage(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/owners/{owner_id}/segments", response_model=list[MembershipRead])
async def list_owner_segments(owner_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await segments.owner_memberships(session, caller=caller, owner_id=owner_id)
