"""Journeys' HTTP API, mounted at /v1/journeys. Thin: dependencies in, one use case, out."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from services.journeys.catalogue import JOURNEY_TEMPLATES
from services.journeys.deps import Now
from services.journeys.domain import KEY_PATTERN, DefinitionStatus
from services.journeys.domain.contact import ContactPolicy
from services.journeys.domain.definitions import JourneyBody, JourneySpec
from services.journeys.errors import OwnerNotFound
from services.journeys.schemas import (
    DecisionPage,
    DefinitionPage,
    DefinitionRead,
    MessagePage,
    MessageRead,
    MessageTemplatePut,
    MessageTemplateRead,
    PreferencesPut,
    PreferencesRead,
    PreviewRead,
    RecallCreate,
    RecallRead,
    RecallVehicleRead,
    RunCreate,
    RunRead,
    TemplateInstall,
    TransitionCreate,
)
from services.journeys.service import (
    access,
    configuration,
    definitions,
    entry,
    inbox,
    measurement,
    privacy,
    recalls,
)
from shared.dependencies import CurrentCaller, Paging, Session

router = APIRouter()

Version = Annotated[int, Path(ge=1, le=1_000_000)]


def _page(page_type, items, total, paging):
    return page_type(items=items, total=total, limit=paging.limit, offset=paging.offset)


# Definitions


@router.post("/definitions", status_code=status.HTTP_201_CREATED, response_model=DefinitionRead)
async def create_definition(body: JourneySpec, session: Session, caller: CurrentCaller, now: Now):
    access.require_writer(caller)
    return await definitions.create(session, caller=caller, spec=body, now=now)


@router.post(
    "/definitions/from-template", status_code=status.HTTP_201_CREATED,
    response_model=DefinitionRead,
)  # fmt: skip
async def install_template(
    body: TemplateInstall, session: Session, caller: CurrentCaller, now: Now
):
    access.require_writer(caller)
    return await definitions.install_template(
        session, caller=caller, template=body.template, key=body.key, now=now
    )


@router.get("/definitions", response_model=DefinitionPage)
async def list_definitions(
    session: Session, caller: CurrentCaller, paging: Paging, status: DefinitionStatus | None = None
):
    access.require_reader(caller)
    items, total = await definitions.list_definitions(session, page=paging, status=status)
    return _page(DefinitionPage, items, total, paging)


@router.get("/definitions/{key}/versions", response_model=list[DefinitionRead])
async def list_versions(key: str, session: Session, caller: CurrentCaller):
    access.require_reader(caller)
    return await definitions.list_versions(session, key=key)


@router.post(
    "/definitions/{key}/versions", status_code=status.HTTP_201_CREATED,
    response_model=DefinitionRead,
)  # fmt: skip
async def add_version(
    key: str, body: JourneyBody, session: Session, caller: CurrentCaller, now: Now
):
    access.require_writer(caller)
    return await definitions.add_version(session, caller=caller, key=key, body=body, now=now)


@router.get("/definitions/{key}/versions/{version}", response_model=DefinitionRead)
async def get_version(key: str, version: Version, session: Session, caller: CurrentCaller):
    access.require_reader(caller)
    return await definitions.get_version(session, key=key, version=version)


@router.post("/definitions/{key}/versions/{version}/transitions", response_model=DefinitionRead)
async def transition(
    key: str, version: Version, body: TransitionCreate, session: Session, caller: CurrentCaller,
    now: Now,
):  # fmt: skip
    access.require_writer(caller)
    return await definitions.transition(session, key=key, version=version, target=body.to, now=now)


@router.get("/definitions/{key}/versions/{version}/preview", response_model=PreviewRead)
async def preview(
    key: str, version: Version, session: Session, caller: CurrentCaller, now: Now,
    sample: Annotated[int, Query(ge=0, le=100)] = 10,
):  # fmt: skip
    access.require_reader(caller)
    definition = await definitions.get_version(session, key=key, version=version)
    would_enter, held_out, owners = await entry.preview(session, definition, sample=sample, now=now)
    return PreviewRead(would_enter=would_enter, held_out=held_out, sample=owners)


@router.post("/definitions/{key}/runs", status_code=status.HTTP_201_CREATED, response_model=RunRead)
async def start_run(key: str, body: RunCreate, session: Session, caller: CurrentCaller, now: Now):
    access.require_writer(caller)
    report = await entry.start_run(session, key=key, context=body.context, now=now)
    return RunRead(run_key=report.run_key, entered=report.entered, held_out=report.held_out)


@router.get("/definitions/{key}/metrics")
async def journey_metrics(key: str, session: Session, caller: CurrentCaller) -> dict[str, Any]:
    access.require_reader(caller)
    await definitions.list_versions(session, key=key)  # 404 for an unknown journey
    return await measurement.metrics(session, key=key)


@router.get("/journey-templates")
async def journey_templates(caller: CurrentCaller) -> dict[str, Any]:
    access.require_reader(caller)
    return JOURNEY_TEMPLATES


# Messages, templates, contact policy


@router.get("/messages", response_model=MessagePage)
async def list_messages(
    session: Session, caller: CurrentCaller, paging: Paging, unread: bool | None = None
):
    owner_id = access.require_owner(caller)
    messages, total, deliveries = await inbox.list_messages(
        session, owner_id=owner_id, page=paging, unread=unread
    )
    items = [_message(m, deliveries[m.id]) for m in messages]
    return _page(MessagePage, items, total, paging)


@router.post("/messages/{message_id}/read", response_model=MessageRead)
async def mark_read(message_id: uuid.UUID, session: Session, caller: CurrentCaller, now: Now):
    owner_id = access.require_owner(caller)
    message, deliveries = await inbox.mark_read(
        session, owner_id=owner_id, message_id=message_id, now=now
    )
    return _message(message, deliveries[message.id])


def _message(message, deliveries) -> MessageRead:
    return MessageRead.model_validate(message).model_copy(
        update={"deliveries": [d for d in deliveries if d.channel != "webhook"]}
    )


@router.get("/message-templates")
async def list_message_templates(session: Session, caller: CurrentCaller) -> dict[str, Any]:
    access.require_reader(caller)
    return await configuration.message_templates(session)


@router.put("/message-templates/{key}", response_model=MessageTemplateRead)
async def put_message_template(
    key: Annotated[str, Path(pattern=KEY_PATTERN)],
    body: MessageTemplatePut, session: Session, caller: CurrentCaller, now: Now,
):  # fmt: skip
    access.require_writer(caller)
    variants = {lang.value: v.model_dump() for lang, v in body.variants.items()}
    saved = await configuration.put_message_template(
        session, caller=caller, key=key, variants=variants, link=body.link, now=now
    )
    return MessageTemplateRead(key=key, **saved)


@router.get("/contact-policy", response_model=ContactPolicy)
async def get_contact_policy(session: Session, caller: CurrentCaller):
    access.require_reader(caller)
    return await configuration.contact_policy(session)


@router.put("/contact-policy", response_model=ContactPolicy)
async def put_contact_policy(
    body: ContactPolicy, session: Session, caller: CurrentCaller, now: Now
):
    access.require_writer(caller)
    return await configuration.put_contact_policy(session, policy=body, now=now)


# Owners: preferences, decision log, export


@router.put("/preferences", response_model=PreferencesRead)
async def put_my_preferences(body: PreferencesPut, session: Session, caller: CurrentCaller):
    owner_id = access.require_owner(caller)
    values = _preferences(body.model_dump(exclude_unset=True))
    return await configuration.put_preferences(session, owner_id=owner_id, values=values)


def _preferences(values: dict[str, Any]) -> dict[str, Any]:
    for name in ("quiet_start", "quiet_end"):
        if values.get(name) is not None:
            values[name] = values[name].strftime("%H:%M")
    return values


@router.get("/owners/{owner_id}/decisions", response_model=DecisionPage)
async def owner_decisions(
    owner_id: uuid.UUID, session: Session, caller: CurrentCaller, paging: Paging,
    journey_key: str | None = None,
):  # fmt: skip
    access.require_reader(caller)
    items, total = await measurement.decision_log(
        session, owner_id=owner_id, page=paging, journey_key=journey_key
    )
    return _page(DecisionPage, items, total, paging)


@router.get("/privacy/owners/{owner_id}/export")
async def export_owner(
    owner_id: uuid.UUID, session: Session, caller: CurrentCaller, now: Now
) -> dict:
    if not access.may_export(caller, owner_id):
        raise OwnerNotFound(f"no owner {owner_id}")
    return await privacy.export(session, caller=caller, owner_id=owner_id, now=now)


# Recalls


@router.post("/recalls", status_code=status.HTTP_201_CREATED, response_model=RecallRead)
async def import_recall(body: RecallCreate, session: Session, caller: CurrentCaller, now: Now):
    access.require_recall_writer(caller)
    recall = await recalls.import_recall(
        session, caller=caller, code=body.code, vins=body.vins, now=now,
        title={"en": body.title_en, "zh": body.title_zh},
    )  # fmt: skip
    return await recalls.report(session, recall)


@router.get("/recalls/{recall_id}", response_model=RecallRead)
async def get_recall(recall_id: uuid.UUID, session: Session, caller: CurrentCaller):
    access.require_reader(caller)
    return await recalls.report(session, await recalls.get(session, recall_id))


@router.get("/recalls/{recall_id}/vehicles", response_model=list[RecallVehicleRead])
async def recall_vehicles(recall_id: uuid.UUID, session: Session, caller: CurrentCaller):
    access.require_reader(caller)
    return await recalls.vehicle_reports(session, await recalls.get(session, recall_id))
