"""Surveys, triggers, invitations, answers, topics and posts. Thin: dependencies in, one use
case, out.

Everything needs a caller, except `public_router` (`/v1/feedback/public/...`): the answer
link from an SMS or e-mail, whose single-use token is the credential. The gateway lets
that prefix through without authentication.
"""

import uuid

from fastapi import APIRouter, Response, status

from services.feedback.deps import Now, Provenance, Settings
from services.feedback.domain import InvitationStatus, ScoreBand, SurveyKind, Touchpoint
from services.feedback.schemas import (
    AnalysisRead,
    AnalysisRequest,
    AnswerCreate,
    IngestResult,
    InvitationCreate,
    InvitationPage,
    InvitationRead,
    PostBatch,
    PostPage,
    PostRead,
    PostSource,
    ResponsePage,
    ResponseRead,
    StaffResponseRead,
    SurveyCreate,
    SurveyDefinition,
    SurveyPage,
    SurveyRead,
    SurveyView,
    TopicCreate,
    TopicRead,
    TriggerCreate,
    TriggerRead,
)
from services.feedback.service import configuration, invitations, posts, responses, topics
from shared.dependencies import AnyCaller, CurrentCaller, Paging, PublicSession, Session

router = APIRouter()
public_router = APIRouter(prefix="/public", tags=["public"])

ResponseOut = StaffResponseRead | ResponseRead


def _page(page_type, items, total, paging):
    return page_type(items=items, total=total, limit=paging.limit, offset=paging.offset)


# Surveys


@router.post("/surveys", status_code=status.HTTP_201_CREATED, response_model=SurveyRead)
async def create_survey(body: SurveyCreate, session: Session, caller: CurrentCaller, now: Now):
    return await configuration.create_survey(session, caller=caller, data=body, now=now)


@router.get("/surveys", response_model=SurveyPage)
async def list_surveys(
    session: Session, caller: CurrentCaller, paging: Paging, kind: SurveyKind | None = None
):
    items, total = await configuration.list_surveys(session, caller=caller, page=paging, kind=kind)
    return _page(SurveyPage, items, total, paging)


@router.get("/surveys/{key}", response_model=SurveyRead)
async def get_survey(key: str, session: Session, caller: CurrentCaller, version: int | None = None):
    return await configuration.get_survey(session, caller=caller, key=key, version=version)


@router.post(
    "/surveys/{key}/versions", status_code=status.HTTP_201_CREATED, response_model=SurveyRead
)
async def add_survey_version(
    key: str, body: SurveyDefinition, session: Session, caller: CurrentCaller, now: Now
):
    return await configuration.add_survey_version(
        session, caller=caller, key=key, data=body, now=now
    )


# Triggers


@router.post("/triggers", status_code=status.HTTP_201_CREATED, response_model=TriggerRead)
async def create_trigger(body: TriggerCreate, session: Session, caller: CurrentCaller, now: Now):
    return await configuration.create_trigger(session, caller=caller, data=body, now=now)


@router.get("/triggers", response_model=list[TriggerRead])
async def list_triggers(session: Session, caller: CurrentCaller):
    return await configuration.list_triggers(session, caller=caller)


@router.put("/triggers/{trigger_id}", response_model=TriggerRead)
async def replace_trigger(
    trigger_id: uuid.UUID, body: TriggerCreate, session: Session, caller: CurrentCaller, now: Now
):
    return await configuration.replace_trigger(
        session, caller=caller, trigger_id=trigger_id, data=body, now=now
    )


@router.delete("/triggers/{trigger_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_trigger(trigger_id: uuid.UUID, session: Session, caller: CurrentCaller):
    await configuration.delete_trigger(session, caller=caller, trigger_id=trigger_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Invitations and answers


@router.post("/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationRead)
async def create_invitation(
    body: InvitationCreate, session: Session, caller: CurrentCaller, now: Now, settings: Settings
):
    return await invitations.create_invitation(
        session, caller=caller, data=body, now=now, settings=settings
    )


@router.get("/invitations", response_model=InvitationPage)
async def list_invitations(
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    status: InvitationStatus | None = None,
    owner_id: uuid.UUID | None = None,
):
    items, total = await invitations.list_invitations(
        session, caller=caller, page=paging, status=status, owner_id=owner_id
    )
    return _page(InvitationPage, items, total, paging)


@router.get("/invitations/{invitation_id}", response_model=InvitationRead)
async def get_invitation(invitation_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await invitations.get_invitation(session, caller=caller, invitation_id=invitation_id)


@router.post(
    "/invitations/{invitation_id}/response",
    status_code=status.HTTP_201_CREATED,
    response_model=ResponseRead,
)
async def answer_in_app(
    invitation_id: uuid.UUID,
    body: AnswerCreate,
    session: Session,
    caller: CurrentCaller,
    provenance: Provenance,
    now: Now,
):
    """The signed-in owner answers their own invitation from the app."""
    return await responses.answer_in_app(
        session,
        caller=caller,
        invitation_id=invitation_id,
        data=body,
        fingerprint=provenance,
        now=now,
    )


@public_router.get("/invitations/{token}", response_model=SurveyView)
async def public_survey(token: str, session: PublicSession, now: Now):
    """The survey behind an SMS or e-mail link; the token is the only credential."""
    return await invitations.survey_view(session, token=token, now=now)


@public_router.post(
    "/invitations/{token}/response",
    status_code=status.HTTP_201_CREATED,
    response_model=ResponseRead,
)
async def answer_by_link(
    token: str, body: AnswerCreate, session: PublicSession, provenance: Provenance, now: Now
):
    return await responses.answer_by_token(
        session, token=token, data=body, fingerprint=provenance, now=now
    )


# Responses


@router.get("/responses", response_model=ResponsePage)
async def list_responses(
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    touchpoint: Touchpoint | None = None,
    band: ScoreBand | None = None,
):
    items, total = await responses.list_responses(
        session, caller=caller, page=paging, touchpoint=touchpoint, band=band
    )
    return _page(ResponsePage, items, total, paging)


@router.get("/responses/{response_id}", response_model=ResponseOut)
async def get_response(response_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await responses.get_response(session, caller=caller, response_id=response_id)


# Topics and analysis


@router.get("/topics", response_model=list[TopicRead])
async def list_topics(session: Session, caller: CurrentCaller):
    return await topics.list_topics(session, caller=caller)


@router.post("/topics", status_code=status.HTTP_201_CREATED, response_model=TopicRead)
async def create_topic(body: TopicCreate, session: Session, caller: CurrentCaller, now: Now):
    return await topics.create_topic(session, caller=caller, data=body, now=now)


@router.put("/topics/{key}", response_model=TopicRead)
async def replace_topic(
    key: str, body: TopicCreate, session: Session, caller: CurrentCaller, now: Now
):
    return await topics.replace_topic(session, caller=caller, key=key, data=body, now=now)


@router.delete("/topics/{key}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_topic(key: str, session: Session, caller: CurrentCaller):
    await topics.delete_topic(session, caller=caller, key=key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/analysis", response_model=AnalysisRead)
async def analyse_text(body: AnalysisRequest, session: Session, caller: CurrentCaller):
    """What the current taxonomy makes of a text (language, topics, sentiment, flag)."""
    return await topics.analyse(session, caller=caller, text=body.text)


# Posts and reviews


@router.post("/posts/batches", response_model=IngestResult)
async def ingest_posts(body: PostBatch, session: Session, caller: AnyCaller, now: Now):
    """Connector intake, idempotent by (source, source_id): a resent batch changes nothing."""
    return await posts.ingest(session, caller=caller, batch=body, now=now)


@router.get("/posts", response_model=PostPage)
async def list_posts(
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    flag: str | None = None,
    source: PostSource | None = None,
):
    items, total = await posts.list_posts(
        session, caller=caller, page=paging, flag=flag, source=source
    )
    return _page(PostPage, items, total, paging)


@router.get("/posts/{post_id}", response_model=PostRead)
async def get_post(post_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await posts.get_post(session, caller=caller, post_id=post_id)
