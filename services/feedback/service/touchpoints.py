"""Touchpoint triggers: the events that may send a survey, and what each one sends.

Which survey, after what delay and how often per owner is data (`Trigger`); an event whose
touchpoint has no enabled trigger sends nothing. The same event twice invites once. Every
touchpoint is recorded with what came of it, invitation or not, for the suppression audit.
"""

from datetime import UTC, datetime, time, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.config import FeedbackSettings
from services.feedback.domain import TouchOutcome, Touchpoint
from services.feedback.models import TouchpointRecord
from services.feedback.repository import FeedbackRepository
from services.feedback.service.invitations import Touch, invite
from shared.contracts.journeys import SurveyRequested
from shared.contracts.profile import OrderStatusChanged, ServiceVisitCompleted
from shared.contracts.tickets import TicketResolved

log = structlog.get_logger("touchpoints")

DELIVERED = "delivered"
TRIGGERED_BY = "trigger"
REQUESTED_BY = "journey"


async def touched(
    session: AsyncSession, touch: Touch, *, now: datetime, settings: FeedbackSettings
) -> None:
    """A touchpoint happened: invite as its trigger says, and record what came of it."""
    repository = FeedbackRepository(session)
    trigger = await repository.trigger_once(touch.touchpoint)
    if trigger is None:
        outcome = TouchOutcome.NO_TRIGGER
    elif not trigger.enabled:
        outcome = TouchOutcome.TRIGGER_DISABLED
    else:
        outcome = None
    await _record(
        session,
        touch,
        survey_key=trigger.survey_key if trigger else "",
        delay=timedelta(minutes=trigger.delay_minutes if trigger else 0),
        throttle_days=trigger.throttle_days if trigger else 0,
        refused=outcome,
        created_by=TRIGGERED_BY,
        now=now,
        settings=settings,
    )


async def survey_requested(
    session: AsyncSession, event: SurveyRequested, *, now: datetime, settings: FeedbackSettings
) -> None:
    """A journey step asks for a survey: sent now, with the touchpoint's throttle (its
    trigger's, else the default), once per request."""
    known = event.touchpoint in Touchpoint.__members__.values()
    touch = Touch(
        touchpoint=Touchpoint(event.touchpoint) if known else Touchpoint.JOURNEY,
        source=f"journey:{event.request_id}",
        owner_id=event.owner_id,
        occurred_at=event.requested_at,
    )
    trigger = await FeedbackRepository(session).trigger_once(touch.touchpoint)
    await _record(
        session,
        touch,
        survey_key=event.survey_key,
        delay=timedelta(0),
        throttle_days=trigger.throttle_days if trigger else settings.default_throttle_days,
        refused=None,
        created_by=f"{REQUESTED_BY}:{event.journey_key}",
        now=now,
        settings=settings,
    )


async def _record(
    session: AsyncSession,
    touch: Touch,
    *,
    survey_key: str,
    delay: timedelta,
    throttle_days: int,
    refused: TouchOutcome | None,
    created_by: str,
    now: datetime,
    settings: FeedbackSettings,
) -> None:
    repository = FeedbackRepository(session)
    if await repository.touchpoint_by_source(touch.source):
        return  # the same fact again
    record = TouchpointRecord(
        source=touch.source,
        touchpoint=touch.touchpoint,
        dealer_id=touch.dealer_id,
        owner_id=touch.owner_id,
        vehicle_id=touch.vehicle_id,
        occurred_at=touch.occurred_at or now,
        outcome=refused or TouchOutcome.INVITED,
    )
    if touch.owner_id is None:
        record.outcome = TouchOutcome.NO_OWNER
    elif await repository.is_erased(touch.owner_id):
        record.outcome, record.owner_id = TouchOutcome.OWNER_ERASED, None
    elif refused is None and await repository.latest_survey_once(survey_key) is None:
        log.warning("survey_missing", touchpoint=touch.touchpoint, survey=survey_key)
        record.outcome = TouchOutcome.SURVEY_MISSING
    if record.outcome == TouchOutcome.INVITED:
        invitation = await invite(
            session,
            touch,
            survey_key=survey_key,
            delay=delay,
            throttle_days=throttle_days,
            now=now,
            settings=settings,
            created_by=created_by,
        )
        record.invitation_id = invitation.id
    await repository.add(record)


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
        occurred_at=event.changed_at,
    )


def service_visit_completed(event: ServiceVisitCompleted) -> Touch:
    return Touch(
        touchpoint=Touchpoint.SERVICE_VISIT_COMPLETED,
        source=f"service_visit:{event.visit_id}",
        owner_id=event.owner_id,
        dealer_id=event.dealer_id,
        vehicle_id=event.vehicle_id,
        vin=event.vin,
        model=event.model,
        occurred_at=datetime.combine(event.visit_date, time(), UTC),
    )


def ticket_resolved(event: TicketResolved) -> Touch:
    """The closed loop: a resolved case earns its owner a follow-up survey."""
    return Touch(
        touchpoint=Touchpoint.TICKET_RESOLVED,
        # A reopened and again resolved case is surveyed again (the throttle permitting).
        source=f"ticket:{event.ticket_id}:{event.resolved_at.isoformat()}",
        owner_id=event.owner_id,
        dealer_id=event.dealer_id,
        vehicle_id=event.vehicle_id,
        ticket_id=event.ticket_id,
        occurred_at=event.resolved_at,
    )
