"""Journey definitions as data: created and validated, versioned, activated, paused and
archived. Instances keep the version they started on, so changing a journey never changes
what a running owner goes through."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.catalogue import JOURNEY_TEMPLATES, MESSAGE_TEMPLATES
from services.journeys.domain import DefinitionStatus, check_transition
from services.journeys.domain.definitions import JourneyBody, JourneySpec, validate_spec
from services.journeys.errors import DuplicateJourney, JourneyNotFound
from services.journeys.models import JourneyDefinition, MessageTemplate
from services.journeys.repository import JourneysRepository
from shared.auth import Caller
from shared.errors import FieldError, InvalidInput
from shared.pagination import PageParams

_LIVE = (DefinitionStatus.ACTIVE, DefinitionStatus.PAUSED)


async def create(
    session: AsyncSession, *, caller: Caller, spec: JourneySpec, now: datetime
) -> JourneyDefinition:
    repository = JourneysRepository(session)
    await _validate(repository, spec)
    if await repository.definition(spec.key):
        raise DuplicateJourney(f"a journey {spec.key!r} exists; add a version to change it")
    return await repository.add(_row(spec, version=1, caller=caller, now=now))


async def add_version(
    session: AsyncSession, *, caller: Caller, key: str, body: JourneyBody, now: datetime
) -> JourneyDefinition:
    repository = JourneysRepository(session)
    latest = await repository.definition(key, for_update=True)
    if latest is None:
        raise JourneyNotFound(f"no journey {key!r}")
    spec = JourneySpec(key=key, **body.model_dump(by_alias=True, exclude_unset=True))
    await _validate(repository, spec)
    return await repository.add(_row(spec, version=latest.version + 1, caller=caller, now=now))


async def install_template(
    session: AsyncSession, *, caller: Caller, template: str, key: str | None, now: datetime
) -> JourneyDefinition:
    if template not in JOURNEY_TEMPLATES:
        raise InvalidInput.for_field("body.template", f"no shipped journey {template!r}")
    spec = JourneySpec.model_validate({"key": key or template, **JOURNEY_TEMPLATES[template]})
    return await create(session, caller=caller, spec=spec, now=now)


async def transition(
    session: AsyncSession, *, key: str, version: int, target: DefinitionStatus, now: datetime
) -> JourneyDefinition:
    repository = JourneysRepository(session)
    definition = await _version(repository, key, version, for_update=True)
    check_transition(DefinitionStatus(definition.status), target)
    if target is DefinitionStatus.ACTIVE:
        for other in await repository.versions(key):
            if other.id != definition.id and other.status in _LIVE:
                # The old version takes no one new; its running instances finish on it.
                other.status = DefinitionStatus.SUPERSEDED
        await session.flush()
        definition.activated_at = definition.activated_at or now
    definition.status = target
    await session.flush()
    return definition


async def get_version(session: AsyncSession, *, key: str, version: int) -> JourneyDefinition:
    return await _version(JourneysRepository(session), key, version)


async def list_versions(session: AsyncSession, *, key: str) -> Sequence[JourneyDefinition]:
    versions = await JourneysRepository(session).versions(key)
    if not versions:
        raise JourneyNotFound(f"no journey {key!r}")
    return versions


async def list_definitions(
    session: AsyncSession, *, page: PageParams, status: DefinitionStatus | None
) -> tuple[Sequence[JourneyDefinition], int]:
    conditions = [JourneyDefinition.status == status] if status else []
    return await JourneysRepository(session).page(
        JourneyDefinition, page, *conditions,
        order_by=(JourneyDefinition.key, JourneyDefinition.version),
    )  # fmt: skip


async def _version(
    repository: JourneysRepository, key: str, version: int, *, for_update: bool = False
) -> JourneyDefinition:
    definition = await repository.definition(key, version, for_update=for_update)
    if definition is None:
        raise JourneyNotFound(f"no version {version} of journey {key!r}")
    return definition


async def _validate(repository: JourneysRepository, spec: JourneySpec) -> None:
    validate_spec(spec)
    missing = [
        FieldError(field=f"body.{field}", message=f"no message template {template!r}")
        for field, template in spec.templates()
        if template not in MESSAGE_TEMPLATES
        and await repository.get(MessageTemplate, template) is None
    ]
    if missing:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in missing), errors=missing)


def _row(spec: JourneySpec, *, version: int, caller: Caller, now: datetime) -> JourneyDefinition:
    return JourneyDefinition(
        key=spec.key,
        version=version,
        status=DefinitionStatus.DRAFT,
        category=spec.category,
        trigger_type=spec.trigger.type,
        trigger_event=_trigger_event(spec),
        spec=spec.model_dump(mode="json", by_alias=True, exclude_none=True),
        created_by=caller.subject,
        created_at=now,
    )


def _trigger_event(spec: JourneySpec) -> str | None:
    if spec.trigger.type == "event":
        return spec.trigger.event
    if spec.trigger.type == "segment_entered":
        return "profile.segment.membership_changed"
    return None


def spec_of(definition: JourneyDefinition) -> JourneySpec:
    return JourneySpec.model_validate(definition.spec)
