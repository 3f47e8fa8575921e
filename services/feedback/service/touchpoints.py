"""Touchpoint triggers: the events that may send a survey, and what each one sends.

Which survey, after what delay and how often per owner is data (`Trigger`); an event whose
touchpoint has no enabled trigger sends nothing. The same event twice invites once.
"""

from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.config import FeedbackSettings
from services.feedback.domain import Touchpoint
from services.feedback.repository import FeedbackRepository
from services.feedback.service.invitations import Touch, invite
from shared.contracts.profile import OrderStatusChanged, ServiceVisitCompleted
from shared.contracts.tickets import TicketResolved

log = structlog.get_logger("touchpoints")

DELIVERED = "delivered"
TRIGGERED_BY = "trigger"


async def touched(
    session: AsyncSession, touch: Touch, *, now: datetime, settings: FeedbackSettings
) -> None:
    trigger = await FeedbackRepository(session).trigger_for(touch.touchpoint)
    if trigger is None or not trigger.enabled:
        return
    if await FeedbackRepository(session).latest_survey(trigger.survey_key) is None:
        log.warning(
            "trigger_survey_missing", touchpoint=touch.touchpoint, survey=trigger.survey_key
        )
        return
    await invite(
        session,
        touch,
        survey_key=trigger.survey_key,
        delay=timedelta(minutes=trigger.delay_minutes),
        throttle_days=trigger.throttle_days,
        now=now,
        settings=settings,
        created_by=TRIGGERED_BY,
    )


def order_delivered(event: OrderStatusChanged) -> Touch | None:
    if event.status != DELIVERED:
        return None
    return Touch(
        touchpoint=Touchpoint.ORDER_DELIVERED,
        source=f"order:{event.order_id}",
        owner_id=event.owner_id,
        dealer_id=event.dealer_id,
        vin=event.vin,
        model=event.model,
    )


def service_visit_completed(event: ServiceVisitCompleted) -> Touch | None:
    if event.owner_id is None:
        return None
    return Touch(
        touchpoint=Touchpoint.SERVICE_VISIT_COMPLETED,
        source=f"service_visit:{event.visit_id}",
        owner_id=event.owner_id,
        dealer_id=event.dealer_id,
        vehicle_id=event.vehicle_id,
        vin=event.vin,
    )


def ticket_resolved(event: TicketResolved) -> Touch | None:
    """The closed loop: a resolved case earns its owner a follow-up survey."""
    if event.owner_id is None:
        return None
    return Touch(
        touchpoint=Touchpoint.TICKET_RESOLVED,
        # A reopened and again resolved case is surveyed again (the throttle permitting).
        source=f"ticket:{event.ticket_id}:{event.resolved_at.isoformat()}",
        owner_id=event.owner_id,
        dealer_id=event.dealer_id,
        vehicle_id=event.vehicle_id,
        ticket_id=event.ticket_id,
    )
