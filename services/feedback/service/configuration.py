"""Configuration as data: versioned survey templates and touchpoint triggers.

A survey is changed by adding a version; invitations and answers keep the version they
were sent with. Triggers take effect for the next event, without a deploy.
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.errors import (
    DuplicateSurvey,
    DuplicateTrigger,
    SurveyNotFound,
    TriggerNotFound,
    UnknownReference,
)
from services.feedback.models import SurveyTemplate, Trigger
from services.feedback.repository import FeedbackRepository
from services.feedback.schemas import SurveyCreate, SurveyDefinition, TriggerCreate
from services.feedback.service.access import require_config_reader, require_configurer
from shared.auth import Caller
from shared.pagination import PageParams

# Surveys


async def create_survey(
    session: AsyncSession, *, caller: Caller, data: SurveyCreate, now: datetime
) -> SurveyTemplate:
    require_configurer(caller)
    if await FeedbackRepository(session).latest_survey(data.key):
        raise DuplicateSurvey(f"Survey {data.key!r} exists; add a version instead")
    return await _add_version(session, caller, data.key, 1, data, now)


async def add_survey_version(
    session: AsyncSession, *, caller: Caller, key: str, data: SurveyDefinition, now: datetime
) -> SurveyTemplate:
    require_configurer(caller)
    latest = await _survey(session, key)
    return await _add_version(session, caller, key, latest.version + 1, data, now)


async def _add_version(
    session: AsyncSession,
    caller: Caller,
    key: str,
    version: int,
    data: SurveyDefinition,
    now: datetime,
) -> SurveyTemplate:
    return await FeedbackRepository(session).add(
        SurveyTemplate(
            key=key,
            version=version,
            kind=data.kind,
            title=data.title.model_dump(),
            questions=[question.model_dump(mode="json") for question in data.questions],
            created_by=caller.subject,
            created_at=now,
        )
    )


async def list_surveys(
    session: AsyncSession, *, caller: Caller, page: PageParams, kind: str | None
) -> tuple[list[SurveyTemplate], int]:
    require_config_reader(caller)
    return await FeedbackRepository(session).latest_surveys(page, kind)


async def get_survey(
    session: AsyncSession, *, caller: Caller, key: str, version: int | None = None
) -> SurveyTemplate:
    require_config_reader(caller)
    if version is None:
        return await _survey(session, key)
    template = await FeedbackRepository(session).survey_version(key, version)
    if template is None:
        raise SurveyNotFound(f"Survey {key!r} has no version {version}")
    return template


async def _survey(session: AsyncSession, key: str) -> SurveyTemplate:
    template = await FeedbackRepository(session).latest_survey(key)
    if template is None:
        raise SurveyNotFound(f"Survey {key!r} not found")
    return template


# Triggers


async def create_trigger(
    session: AsyncSession, *, caller: Caller, data: TriggerCreate, now: datetime
) -> Trigger:
    require_configurer(caller)
    repository = FeedbackRepository(session)
    await _check_survey(session, data.survey_key)
    if await repository.trigger_for(data.touchpoint):
        raise DuplicateTrigger(f"Touchpoint {data.touchpoint} already has a trigger")
    return await repository.add(Trigger(**data.model_dump(), created_at=now, updated_at=now))


async def replace_trigger(
    session: AsyncSession, *, caller: Caller, trigger_id: uuid.UUID, data: TriggerCreate, now
) -> Trigger:
    require_configurer(caller)
    repository = FeedbackRepository(session)
    trigger = await _trigger(session, trigger_id)
    await _check_survey(session, data.survey_key)
    same = await repository.trigger_for(data.touchpoint)
    if same is not None and same.id != trigger.id:
        raise DuplicateTrigger(f"Touchpoint {data.touchpoint} already has a trigger")
    for name, value in data.model_dump().items():
        setattr(trigger, name, value)
    trigger.updated_at = now
    return trigger


async def list_triggers(session: AsyncSession, *, caller: Caller) -> list[Trigger]:
    require_config_reader(caller)
    return list(await FeedbackRepository(session).triggers())


async def delete_trigger(session: AsyncSession, *, caller: Caller, trigger_id: uuid.UUID) -> None:
    require_configurer(caller)
    await FeedbackRepository(session).delete(await _trigger(session, trigger_id))


async def _trigger(session: AsyncSession, trigger_id: uuid.UUID) -> Trigger:
    trigger = await FeedbackRepository(session).get(Trigger, trigger_id, for_update=True)
    if trigger is None:
        raise TriggerNotFound(f"Trigger {trigger_id} not found")
    return trigger


async def _check_survey(session: AsyncSession, key: str) -> None:
    if await FeedbackRepository(session).latest_survey(key) is None:
        raise UnknownReference.for_field("body.survey_key", f"survey {key!r} does not exist")
