"""Invitations: scheduled at a touchpoint, issued with a single-use token, answered once.

The platform sends every invitation (never the dealer): issuing publishes
`SurveyInvitationCreated` with the link, which journeys delivers. Only a SHA-256 of the
token is stored, so a database reader cannot answer on an owner's behalf.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.config import FeedbackSettings
from services.feedback.domain import (
    STAGE_AT,
    InvitationStatus,
    Localized,
    Question,
    Touchpoint,
    invitation_problem,
    throttled,
)
from services.feedback.errors import (
    AlreadyAnswered,
    InvitationExpired,
    InvitationNotFound,
    NotYetSent,
    OwnerErased,
    SurveyNotFound,
)
from services.feedback.models import Invitation, SurveyTemplate
from services.feedback.repository import FeedbackRepository
from services.feedback.repository.analytics import AnalyticsRepository
from services.feedback.schemas import ChoiceView, InvitationCreate, QuestionView, SurveyView
from services.feedback.service.access import CONFIGURERS
from shared.auth import Caller, CallerKind
from shared.contracts.feedback import SurveyInvitationCreated
from shared.messaging.outbox import record_event
from shared.pagination import PageParams

SUPPRESSED_THROTTLED = "throttled"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Touch:
    """A touchpoint that happened to an owner: what may earn them an invitation."""

    touchpoint: Touchpoint
    source: str
    # None when the fact names no owner (a service visit imported without one).
    owner_id: uuid.UUID | None
    dealer_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    vin: str | None = None
    model: str | None = None
    ticket_id: uuid.UUID | None = None
    occurred_at: datetime | None = None


async def invite(
    session: AsyncSession,
    touch: Touch,
    *,
    survey_key: str,
    delay: timedelta,
    throttle_days: int,
    now: datetime,
    settings: FeedbackSettings,
    created_by: str,
) -> Invitation:
    """Schedules (or, with no delay, issues) one invitation per touch; the same touch again
    returns the first. An owner surveyed within `throttle_days` is recorded as suppressed."""
    repository = FeedbackRepository(session)
    if existing := await repository.invitation_by_source(touch.source):
        return existing
    template = await repository.latest_survey_once(survey_key)
    if template is None:
        raise SurveyNotFound(f"Survey {survey_key!r} not found")
    owner = await repository.known_owner(touch.owner_id)
    vehicle = await repository.known_vehicle(touch.vehicle_id, vin=touch.vin)
    send_at = now + delay
    suppressed = throttled(
        await repository.last_surveyed_at(touch.owner_id), send_at, throttle_days
    )
    # Added, not flushed: one sent now is inserted once, with its token (by `issue`).
    invitation = Invitation(
        template_id=template.id,
        status=InvitationStatus.SUPPRESSED if suppressed else InvitationStatus.SCHEDULED,
        suppressed_reason=SUPPRESSED_THROTTLED if suppressed else None,
        touchpoint=touch.touchpoint,
        # The owner's stage as profile knows it, else the one the touchpoint implies.
        lifecycle_stage=(owner and owner.lifecycle_stage) or STAGE_AT.get(touch.touchpoint),
        owner_id=touch.owner_id,
        dealer_id=touch.dealer_id or (owner.dealer_id if owner else None),
        vehicle_id=touch.vehicle_id or (vehicle.id if vehicle else None),
        vin=touch.vin or (vehicle.vin if vehicle else None),
        model=touch.model or (vehicle.model if vehicle else None),
        language=owner.preferred_language if owner else "en",
        source=touch.source,
        ticket_id=touch.ticket_id,
        send_at=send_at,
        created_by=created_by,
        created_at=now,
    )
    session.add(invitation)
    if not suppressed and send_at <= now:
        await issue(session, invitation, template=template, now=now, settings=settings)
    else:
        await session.flush()
    return invitation


async def issue(
    session: AsyncSession,
    invitation: Invitation,
    *,
    template: SurveyTemplate,
    now: datetime,
    settings: FeedbackSettings,
) -> None:
    token = secrets.token_urlsafe(32)
    invitation.status = InvitationStatus.SENT
    invitation.token_hash = token_hash(token)
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=settings.invitation_ttl_days)
    await session.flush()
    AnalyticsRepository(session).count_invitation(invitation, template.kind)
    await record_event(
        session,
        SurveyInvitationCreated(
            invitation_id=invitation.id,
            survey_key=template.key,
            survey_version=template.version,
            kind=template.kind,
            owner_id=invitation.owner_id,
            dealer_id=invitation.dealer_id,
            vehicle_id=invitation.vehicle_id,
            touchpoint=invitation.touchpoint,
            language=invitation.language,
            title=Localized.model_validate(template.title).in_language(invitation.language),
            link=f"{settings.survey_link_base.rstrip('/')}/{token}",
            token=token,
            expires_at=invitation.expires_at,
            ticket_id=invitation.ticket_id,
        ),
        subject=invitation.id,
        dealer_id=invitation.dealer_id,
        owner_id=invitation.owner_id,
    )


async def issue_due(
    session: AsyncSession, *, now: datetime, limit: int, settings: FeedbackSettings
) -> int:
    """Issues invitations whose delay has passed; returns how many."""
    repository = FeedbackRepository(session)
    due = await repository.due_invitations(now, limit)
    for invitation in due:
        template = await repository.get(SurveyTemplate, invitation.template_id)
        await issue(session, invitation, template=template, now=now, settings=settings)
    return len(due)


async def create_invitation(
    session: AsyncSession,
    *,
    caller: Caller,
    data: InvitationCreate,
    now: datetime,
    settings: FeedbackSettings,
) -> Invitation:
    """Staff invite by hand (a call-centre contact); the touchpoint's throttle still holds."""
    caller.require_staff(*CONFIGURERS)
    if await FeedbackRepository(session).is_erased(data.owner_id):
        raise OwnerErased(f"Owner {data.owner_id} was erased and cannot be surveyed")
    trigger = await FeedbackRepository(session).trigger_for(data.touchpoint)
    touch = Touch(
        touchpoint=data.touchpoint,
        source=f"manual:{uuid.uuid4()}",
        owner_id=data.owner_id,
        dealer_id=data.dealer_id,
        vehicle_id=data.vehicle_id,
        ticket_id=data.ticket_id,
    )
    return await invite(
        session,
        touch,
        survey_key=data.survey_key,
        delay=timedelta(0),
        throttle_days=trigger.throttle_days if trigger else 0,
        now=now,
        settings=settings,
        created_by=caller.subject,
    )


async def list_invitations(
    session: AsyncSession,
    *,
    caller: Caller,
    page: PageParams,
    status: str | None,
    owner_id: uuid.UUID | None,
) -> tuple[list[Invitation], int]:
    filters = [Invitation.status == status] if status else []
    if owner_id:
        filters.append(Invitation.owner_id == owner_id)
    if caller.kind is CallerKind.OWNER:
        # Owners see what was sent to them, not what is planned or suppressed.
        filters.append(Invitation.status.in_([InvitationStatus.SENT, InvitationStatus.ANSWERED]))
    return await FeedbackRepository(session).owned_page(
        Invitation, caller, page, *filters, order_by=Invitation.created_at.desc()
    )


async def get_invitation(
    session: AsyncSession, *, caller: Caller, invitation_id: uuid.UUID
) -> Invitation:
    invitation = await FeedbackRepository(session).owned(Invitation, caller, invitation_id)
    if invitation is None:
        raise InvitationNotFound(f"Invitation {invitation_id} not found")
    return invitation


# Answering


async def by_token(session: AsyncSession, token: str) -> Invitation:
    invitation = await FeedbackRepository(session).invitation_by_token_hash(token_hash(token))
    if invitation is None:
        raise InvitationNotFound("No invitation has this link")
    return invitation


async def owned_by(session: AsyncSession, caller: Caller, invitation_id: uuid.UUID) -> Invitation:
    """The signed-in owner's own invitation, locked for answering."""
    invitation = (
        await FeedbackRepository(session).owned(Invitation, caller, invitation_id, for_update=True)
        if caller.kind is CallerKind.OWNER
        else None
    )
    if invitation is None:
        raise InvitationNotFound(f"Invitation {invitation_id} not found")
    return invitation


def require_answerable(invitation: Invitation, now: datetime) -> None:
    match invitation_problem(InvitationStatus(invitation.status), invitation.expires_at, now):
        case "answered":
            raise AlreadyAnswered("This survey has already been answered")
        case "expired":
            raise InvitationExpired("This survey link has expired")
        case "not_sent":
            raise NotYetSent("This survey has not been sent")


async def survey_view(session: AsyncSession, *, token: str, now: datetime) -> SurveyView:
    """The survey behind a link, in the owner's language."""
    invitation = await by_token(session, token)
    require_answerable(invitation, now)
    template = await FeedbackRepository(session).get(SurveyTemplate, invitation.template_id)
    language = invitation.language
    return SurveyView(
        invitation_id=invitation.id,
        language=language,
        title=Localized.model_validate(template.title).in_language(language),
        questions=[
            _question_view(Question.model_validate(q), language) for q in template.questions
        ],
        expires_at=invitation.expires_at,
    )


def _question_view(question: Question, language: str) -> QuestionView:
    return QuestionView(
        id=question.id,
        type=question.type,
        text=question.text.in_language(language),
        required=question.required,
        choices=[
            ChoiceView(value=choice.value, label=choice.label.in_language(language))
            for choice in question.choices
        ],
        scale=question.scale,
    )
