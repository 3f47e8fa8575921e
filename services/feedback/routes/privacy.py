"""The owner's data in feedback: the export (erasure arrives as profile's event)."""

import uuid

from fastapi import APIRouter

from services.feedback.deps import Now
from services.feedback.schemas.analytics import OwnerExport
from services.feedback.service import privacy
from shared.dependencies import CurrentCaller, Session

router = APIRouter(tags=["privacy"])


@router.get("/privacy/owners/{owner_id}/export", response_model=OwnerExport)
async def export_owner(owner_id: uuid.UUID, session: Session, caller: CurrentCaller, now: Now):
    """Everything feedback holds about the owner: for the owner themselves, or for staff."""
    return await privacy.export_owner(session, caller=caller, owner_id=owner_id, now=now)
