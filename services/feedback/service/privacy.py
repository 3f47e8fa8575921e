"""The owner's privacy rights in feedback: erasure (from profile's request) and export."""

import uuid
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.models import Invitation, Post, Response, TouchpointRecord
from services.feedback.repository.privacy import PrivacyRepository
from services.feedback.schemas import InvitationRead, PostRead, ResponseRead
from services.feedback.schemas.analytics import OwnerExport, TouchpointExport
from shared.audit import record_staff_export
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.feedback import FeedbackErasureCompleted, FeedbackOwnerDataExported
from shared.contracts.profile import OwnerErasureRequested
from shared.errors import Forbidden, NotFound
from shared.idempotency.claims import forget_answers_about
from shared.messaging.outbox import record_event

log = structlog.get_logger("privacy")

SERVICE = "feedback"
# More records than any owner makes; the export is one document, not a page.
EXPORT_LIMIT = 10_000


async def erase_owner(session: AsyncSession, event: OwnerErasureRequested, *, now) -> int:
    """Anonymises the owner's answers, invitations and posts (scores stay for statistics)
    and confirms with `FeedbackErasureCompleted` in the same transaction."""
    erased = await PrivacyRepository(session).erase(event.owner_id, event.request_id, now)
    erased += await forget_answers_about(session, event.owner_id)
    await record_event(
        session,
        FeedbackErasureCompleted(
            request_id=event.request_id,
            owner_id=event.owner_id,
            service=SERVICE,
            records_erased=erased,
            completed_at=now,
        ),
        subject=event.request_id,
        owner_id=event.owner_id,
    )
    log.info("owner_erased", request_id=str(event.request_id), records=erased)
    return erased


async def export_owner(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, now: datetime
) -> OwnerExport:
    """Everything feedback holds about the owner, for the owner or for staff (whose export is
    recorded for the owner's audit log in profile)."""
    _require_exporter(caller, owner_id)
    repository = PrivacyRepository(session)

    async def rows(model, order_by):
        return await repository.owned_by(model, owner_id, order_by, EXPORT_LIMIT)

    export = OwnerExport(
        owner_id=owner_id,
        exported_at=now,
        invitations=[
            InvitationRead.model_validate(row)
            for row in await rows(Invitation, Invitation.created_at)
        ],
        responses=[
            ResponseRead.model_validate(row) for row in await rows(Response, Response.submitted_at)
        ],
        posts=[PostRead.model_validate(row) for row in await rows(Post, Post.published_at)],
        touchpoints=[
            TouchpointExport.model_validate(row)
            for row in await rows(TouchpointRecord, TouchpointRecord.occurred_at)
        ],
    )
    await record_staff_export(
        session, FeedbackOwnerDataExported, caller=caller, owner_id=owner_id, at=now
    )
    return export


def _require_exporter(caller: Caller, owner_id: uuid.UUID) -> None:
    if caller.kind is CallerKind.OWNER:
        if caller.owner_id != owner_id:
            raise NotFound(f"Owner {owner_id} not found")
        return
    if caller.kind is not CallerKind.STAFF:
        raise Forbidden("An owner's data is exported to the owner or to staff")
    caller.require_staff(StaffRole.CX_AGENT)
