"""Answers: validated against their survey version, analysed, stored with provenance,
published; a detractor (or safety words in any answer) raises the complaint event."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.domain import (
    AnswerChannel,
    InvitationStatus,
    Question,
    QuestionType,
    ScoreBand,
    SurveyKind,
    score_band,
    score_question,
    validate_answers,
)
from services.feedback.errors import ResponseNotFound
from services.feedback.models import Invitation, Response, SurveyTemplate
from services.feedback.repository import FeedbackRepository
from services.feedback.repository.analytics import AnalyticsRepository, Cell
from services.feedback.schemas import AnswerCreate, ResponseRead, StaffResponseRead
from services.feedback.service import invitations
from services.feedback.service.topics import analyzer
from shared.auth import Caller
from shared.contracts.feedback import DetractorDetected, ResponseSubmitted
from shared.messaging.outbox import record_event
from shared.pagination import PageParams


@dataclass(frozen=True)
class Fingerprint:
    """Keyed hashes of the answering device and network (the raw values are never kept)."""

    device_hash: str | None = None
    network_hash: str | None = None
    # The raw address, only to check it against the dealer's networks; never stored.
    address: str | None = field(default=None, repr=False)


async def answer_by_token(
    session: AsyncSession, *, token: str, data: AnswerCreate, fingerprint: Fingerprint, now
) -> Response:
    invitation = await invitations.by_token(session, token)
    return await _answer(session, invitation, data, AnswerChannel.LINK, fingerprint, now)


async def answer_in_app(
    session: AsyncSession,
    *,
    caller: Caller,
    invitation_id: uuid.UUID,
    data: AnswerCreate,
    fingerprint: Fingerprint,
    now: datetime,
) -> Response:
    invitation = await invitations.owned_by(session, caller, invitation_id)
    return await _answer(session, invitation, data, AnswerChannel.APP, fingerprint, now)


async def _learn_the_vehicle(
    session: AsyncSession, invitation: Invitation, template: SurveyTemplate
) -> None:
    """A touchpoint's event can arrive before the vehicle's: what the invitation could not
    know then (the model that analytics counts by) is filled in when the answer comes, and
    its count moves to the model's cell."""
    if invitation.model:
        return
    vehicle = await FeedbackRepository(session).known_vehicle(
        invitation.vehicle_id, vin=invitation.vin
    )
    if vehicle is not None:
        counted = Cell.of(invitation, template.kind)
        invitation.vehicle_id, invitation.vin = vehicle.id, vehicle.vin
        invitation.model = vehicle.model
        AnalyticsRepository(session).move_invitation(counted, invitation, template.kind)


async def _answer(
    session: AsyncSession,
    invitation: Invitation,
    data: AnswerCreate,
    channel: AnswerChannel,
    fingerprint: Fingerprint,
    now: datetime,
) -> Response:
    invitations.require_answerable(invitation, now)
    repository = FeedbackRepository(session)
    template = await repository.get(SurveyTemplate, invitation.template_id)
    await _learn_the_vehicle(session, invitation, template)
    questions = [Question.model_validate(question) for question in template.questions]
    answers = validate_answers(questions, data.answers)
    kind = SurveyKind(template.kind)
    scored = score_question(kind, questions)
    score = answers.get(scored.id) if scored else None
    verbatim = "\n".join(
        [data.comment or ""]
        + [answers[q.id] for q in questions if q.type is QuestionType.TEXT and q.id in answers]
    ).strip()
    analysis = (await analyzer(session)).analyse(verbatim) if verbatim else None
    response = await repository.add(
        Response(
            invitation_id=invitation.id,
            template_id=template.id,
            survey_key=template.key,
            survey_version=template.version,
            kind=kind,
            score=score,
            band=score_band(kind, score) if score is not None else None,
            answers=answers,
            comment=verbatim or None,
            touchpoint=invitation.touchpoint,
            lifecycle_stage=invitation.lifecycle_stage,
            owner_id=invitation.owner_id,
            dealer_id=invitation.dealer_id,
            vehicle_id=invitation.vehicle_id,
            model=invitation.model,
            ticket_id=invitation.ticket_id,
            language=analysis.language if analysis else invitation.language,
            topics=list(analysis.topics) if analysis else [],
            sentiment=analysis.sentiment if analysis else None,
            severity=analysis.severity if analysis else None,
            flag=analysis.flag if analysis else None,
            channel=channel,
            device_hash=fingerprint.device_hash,
            network_hash=fingerprint.network_hash,
            from_dealer_network=bool(fingerprint.address)
            and await repository.dealer_network_holds(invitation.dealer_id, fingerprint.address),
            submitted_at=now,
        )
    )
    AnalyticsRepository(session).count_answer(response)
    invitation.status = InvitationStatus.ANSWERED
    invitation.answered_at = now
    await _publish(session, response, safety=bool(analysis and analysis.safety))
    return response


async def _publish(session: AsyncSession, response: Response, *, safety: bool) -> None:
    facts = {
        "response_id": response.id,
        "owner_id": response.owner_id,
        "dealer_id": response.dealer_id,
        "vehicle_id": response.vehicle_id,
        "model": response.model,
        "touchpoint": response.touchpoint,
        "lifecycle_stage": response.lifecycle_stage,
        "severity": response.severity,
        "comment": response.comment,
        "language": response.language,
        "topics": response.topics,
        "ticket_id": response.ticket_id,
        "submitted_at": response.submitted_at,
    }
    keys = {"subject": response.id, "dealer_id": response.dealer_id, "owner_id": response.owner_id}
    await record_event(
        session,
        ResponseSubmitted(
            **facts,
            invitation_id=response.invitation_id,
            survey_key=response.survey_key,
            survey_version=response.survey_version,
            kind=response.kind,
            score=response.score,
            band=response.band,
            sentiment=response.sentiment,
            channel=response.channel,
        ),
        **keys,
    )
    detractor = response.band == ScoreBand.DETRACTOR
    if (detractor or safety) and response.score is not None:
        await record_event(
            session,
            DetractorDetected(
                **facts,
                survey_id=response.template_id,
                scale=response.kind,
                score=response.score,
                reason="detractor" if detractor else "safety",
            ),
            **keys,
        )


async def list_responses(
    session: AsyncSession,
    *,
    caller: Caller,
    page: PageParams,
    touchpoint: str | None,
    band: str | None,
) -> tuple[list[ResponseRead], int]:
    filters = []
    if touchpoint:
        filters.append(Response.touchpoint == touchpoint)
    if band:
        filters.append(Response.band == band)
    rows, total = await FeedbackRepository(session).owned_page(
        Response, caller, page, *filters, order_by=Response.submitted_at.desc()
    )
    return [response_read(caller, row) for row in rows], total


async def get_response(
    session: AsyncSession, *, caller: Caller, response_id: uuid.UUID
) -> ResponseRead:
    response = await FeedbackRepository(session).owned(Response, caller, response_id)
    if response is None:
        raise ResponseNotFound(f"Response {response_id} not found")
    return response_read(caller, response)


def response_read(caller: Caller, response: Response) -> ResponseRead:
    schema = StaffResponseRead if caller.is_staff else ResponseRead
    return schema.model_validate(response)
