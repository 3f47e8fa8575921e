"""Erasure and export of one owner's data. Scores stay, anonymous, for statistics; what
could identify the owner (their id, vehicle, words, device and network) goes."""

import uuid
from datetime import datetime

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import text

from services.feedback.domain import InvitationStatus
from services.feedback.models import (
    ErasedOwner,
    Invitation,
    KnownOwner,
    KnownVehicle,
    Post,
    Response,
    TouchpointRecord,
)

ERASED = "owner_erased"
# Published events about the owner have done their work; the copies would outlive erasure.
_DELETE_PUBLISHED = text(
    "DELETE FROM outbox WHERE published_at IS NOT NULL AND envelope->>'ownerid' = :owner"
)


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def erase(self, owner_id: uuid.UUID, request_id: uuid.UUID, now: datetime) -> int:
        """Anonymises everything held about the owner; returns how many records it touched.
        The tombstone keeps late events about the owner from bringing the data back."""
        await self.session.execute(
            insert(ErasedOwner)
            .values(owner_id=owner_id, request_id=request_id, erased_at=now)
            .on_conflict_do_nothing()
        )
        statements = [
            update(Response)
            .where(Response.owner_id == owner_id)
            .values(
                owner_id=None, vehicle_id=None, comment=None, answers={}, device_hash=None,
                network_hash=None, erased_at=now,
            ),
            update(Invitation)
            .where(Invitation.owner_id == owner_id)
            .values(
                owner_id=None, vehicle_id=None, vin=None, token_hash=None,
                suppressed_reason=_unless_answered(ERASED, Invitation.suppressed_reason),
                status=_unless_answered(InvitationStatus.SUPPRESSED, Invitation.status),
            ),
            update(Post)
            .where(Post.owner_id == owner_id)
            .values(
                owner_id=None, vehicle_id=None, vin=None, title=None, body="", url=None,
                erased_at=now,
            ),
            update(TouchpointRecord)
            .where(TouchpointRecord.owner_id == owner_id)
            .values(owner_id=None),
            update(KnownVehicle).where(KnownVehicle.owner_id == owner_id).values(owner_id=None),
            delete(KnownOwner).where(KnownOwner.id == owner_id),
        ]  # fmt: skip
        erased = 0
        for statement in statements:
            erased += (await self.session.execute(statement)).rowcount or 0
        await self.session.execute(_DELETE_PUBLISHED, {"owner": str(owner_id)})
        return erased

    async def owned_by(self, model, owner_id: uuid.UUID, order_by, limit: int) -> list:
        rows = await self.session.scalars(
            select(model).where(model.owner_id == owner_id).order_by(order_by).limit(limit)
        )
        return list(rows.all())


def _unless_answered(value, current):
    """Open invitations are withdrawn; an answered one keeps what it has."""
    return case((Invitation.status == InvitationStatus.ANSWERED, current), else_=value)
