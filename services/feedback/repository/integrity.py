"""Integrity queries: answers that may not be what they seem (many owners answering from
one network or device) and touchpoints that earned no invitation, read through the caller's
scope."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.domain import InvitationStatus
from services.feedback.domain.analytics import SHARED_BY_OWNERS, Slice
from services.feedback.models import Invitation, Response, TouchpointRecord
from services.feedback.repository import dealer_scope
from services.feedback.repository.analytics import answered_in, day_start
from shared.auth import Caller
from shared.pagination import PageParams


class IntegrityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def shared_network_answers(self, caller: Caller, part: Slice) -> dict[Any, int]:
        """Per dealer: answers sent from a network or a device that answered for at least
        `SHARED_BY_OWNERS` different owners of that dealer in the window (a showroom
        tablet, the dealer's wifi)."""
        # Only columns that ix_responses_kind_submitted carries: the window is read from the
        # index alone (a month of a million answers lies on most of the table's pages).
        window = (
            select(
                Response.dealer_id, Response.owner_id, Response.network_hash, Response.device_hash
            )
            .where(*answered_in(caller, part))
            .cte("answers")
        )

        def crowded(column: str):
            """The (dealer, hash) pairs of one fingerprint seen with enough owners."""
            fingerprint = window.c[column]
            return (
                select(window.c.dealer_id, fingerprint.label("hash"))
                .where(fingerprint.is_not(None))
                .group_by(window.c.dealer_id, fingerprint)
                .having(
                    func.count() >= SHARED_BY_OWNERS,  # cheap: skips most pairs before...
                    func.count(func.distinct(window.c.owner_id)) >= SHARED_BY_OWNERS,  # ...this
                )
                .cte(f"crowded_{column}")
            )

        def seen_in(column: str):
            pairs = crowded(column)
            return exists().where(
                pairs.c.dealer_id == window.c.dealer_id, pairs.c.hash == window.c[column]
            )

        rows = await self.session.execute(
            select(window.c.dealer_id, func.count())
            .where(or_(seen_in("network_hash"), seen_in("device_hash")))
            .group_by(window.c.dealer_id)
        )
        return {dealer_id: number for dealer_id, number in rows}

    async def suppression_counts(
        self,
        caller: Caller,
        first: date,
        last: date,
        touchpoints: Sequence[str],
        dealer_id: uuid.UUID | None = None,
    ) -> Sequence[Row]:
        """Per dealer and reason: touchpoints in the window that earned no invitation."""
        reason = _suppression_reason()
        statement = (
            select(
                TouchpointRecord.dealer_id,
                reason.label("reason"),
                func.count().label("touchpoints"),
            )
            .select_from(TouchpointRecord)
            .outerjoin(Invitation, Invitation.id == TouchpointRecord.invitation_id)
            .where(*_touch_window(caller, first, last, touchpoints, dealer_id), _uninvited())
            .group_by(TouchpointRecord.dealer_id, reason)
        )
        return (await self.session.execute(statement)).all()

    async def touchpoint_totals(
        self,
        caller: Caller,
        first: date,
        last: date,
        touchpoints: Sequence[str],
        dealer_id: uuid.UUID | None = None,
    ) -> dict[Any, int]:
        rows = await self.session.execute(
            select(TouchpointRecord.dealer_id, func.count())
            .where(*_touch_window(caller, first, last, touchpoints, dealer_id))
            .group_by(TouchpointRecord.dealer_id)
        )
        return {dealer_id: number for dealer_id, number in rows}

    async def suppressed_touchpoints(
        self,
        caller: Caller,
        first: date,
        last: date,
        touchpoints: Sequence[str],
        page: PageParams,
        *,
        dealer_id: uuid.UUID | None,
        reason: str | None,
    ) -> tuple[list[Row], int]:
        why = _suppression_reason()
        conditions = [*_touch_window(caller, first, last, touchpoints, dealer_id), _uninvited()]
        if reason:
            conditions.append(why == reason)
        base = (
            select(TouchpointRecord, why.label("reason"))
            .outerjoin(Invitation, Invitation.id == TouchpointRecord.invitation_id)
            .where(*conditions)
        )
        total = await self.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = await self.session.execute(
            base.order_by(TouchpointRecord.occurred_at.desc(), TouchpointRecord.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return list(rows.all()), total or 0


def _suppression_reason():
    """Why a touchpoint earned no invitation: its own outcome, or the invitation's
    suppression (throttled, erased); None when an invitation was (or will be) sent."""
    return case(
        (TouchpointRecord.invitation_id.is_(None), TouchpointRecord.outcome),
        (Invitation.status == InvitationStatus.SUPPRESSED, Invitation.suppressed_reason),
        else_=None,
    )


def _touch_window(
    caller: Caller,
    first: date,
    last: date,
    touchpoints: Sequence[str],
    dealer_id: uuid.UUID | None,
) -> list[Any]:
    conditions = [
        dealer_scope(TouchpointRecord.dealer_id, caller),
        TouchpointRecord.touchpoint.in_(touchpoints),
        TouchpointRecord.occurred_at >= day_start(first),
        TouchpointRecord.occurred_at < day_start(last, after=True),
    ]
    if dealer_id:
        conditions.append(TouchpointRecord.dealer_id == dealer_id)
    return conditions


def _uninvited():
    """Touchpoints that got no invitation, or only a suppressed one (needs the join)."""
    return or_(
        TouchpointRecord.invitation_id.is_(None),
        Invitation.status == InvitationStatus.SUPPRESSED,
    )
