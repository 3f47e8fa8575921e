"""Consent per purpose and channel (PIPL, GDPR): every answer kept, withdrawal as easy as
granting, each change published so journeys can respect it. No answer means not granted."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import consent_channel_problem
from services.profile.models import ConsentEntry
from services.profile.repository.engagement import EngagementRepository
from services.profile.schemas.engagement import (
    ConsentHistoryRead,
    ConsentRead,
    ConsentsRead,
    ConsentUpdate,
)
from services.profile.service.owners import visible_owner
from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import ConsentChanged
from shared.errors import InvalidInput
from shared.messaging.outbox import record_event


async def change_consent(
    session: AsyncSession,
    *,
    caller: Caller,
    owner_id: uuid.UUID,
    data: ConsentUpdate,
    now: datetime,
) -> ConsentsRead:
    """Records the answer; repeating the current answer to the same notice changes nothing."""
    if caller.kind is CallerKind.STAFF:
        caller.require_staff(StaffRole.CX_AGENT)
    await visible_owner(session, caller, owner_id)
    if problem := consent_channel_problem(data.purpose, data.channel):
        raise InvalidInput.for_field("body.channel", problem)
    repository = EngagementRepository(session)
    current = await repository.consent(owner_id, data.purpose, data.channel)
    unchanged = (
        current is not None
        and current.granted == data.granted
        and current.notice_version == data.notice_version
    )
    if not unchanged:
        await repository.record_consent(
            ConsentEntry(
                owner_id=owner_id,
                **data.model_dump(),
                changed_at=now,
                recorded_by=f"{caller.kind}:{caller.subject}",
            ),
            current,
        )
        await record_event(
            session,
            ConsentChanged(owner_id=owner_id, **data.model_dump(), changed_at=now),
            subject=owner_id,
            owner_id=owner_id,
        )
    return await consents_of(session, owner_id)


async def get_consents(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID
) -> ConsentsRead:
    await visible_owner(session, caller, owner_id)
    return await consents_of(session, owner_id)


async def consents_of(session: AsyncSession, owner_id: uuid.UUID) -> ConsentsRead:
    repository = EngagementRepository(session)
    return ConsentsRead(
        owner_id=owner_id,
        current=[ConsentRead.model_validate(c) for c in await repository.consents_of(owner_id)],
        history=[
            ConsentHistoryRead.model_validate(e) for e in await repository.consent_history(owner_id)
        ],
    )
