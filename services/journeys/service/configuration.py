"""Configuration as data: message templates (shipped ones, overridable), the contact policy
(caps, default quiet hours) and each owner's contact preferences."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.catalogue import MESSAGE_TEMPLATES
from services.journeys.domain.contact import ContactPolicy
from services.journeys.errors import TemplateNotFound
from services.journeys.models import ContactPolicyRow, KnownOwner, MessageTemplate
from services.journeys.repository import JourneysRepository
from shared.auth import Caller


async def message_template(session: AsyncSession, key: str) -> dict:
    """{"link": ..., "variants": {language: {"title", "body"}}}: written ones win."""
    written = await JourneysRepository(session).template(key)
    if written is not None:
        return {"link": written.link, "variants": written.variants}
    if key in MESSAGE_TEMPLATES:
        return MESSAGE_TEMPLATES[key]
    raise TemplateNotFound(f"no message template {key!r}")


async def message_templates(session: AsyncSession) -> dict[str, dict]:
    written = await JourneysRepository(session).all_templates()
    shipped = dict(MESSAGE_TEMPLATES)
    shipped.update({t.key: {"link": t.link, "variants": t.variants} for t in written})
    return shipped


async def put_message_template(
    session: AsyncSession, *, caller: Caller, key: str, variants: dict, link: str | None,
    now: datetime,
) -> dict:  # fmt: skip
    await JourneysRepository(session).upsert(
        MessageTemplate,
        {"key": key, "variants": variants, "link": link, "updated_by": caller.subject,
         "updated_at": now},
    )  # fmt: skip
    return {"link": link, "variants": variants}


async def contact_policy(session: AsyncSession) -> ContactPolicy:
    row = await JourneysRepository(session).policy()
    return ContactPolicy.model_validate(row.policy) if row else ContactPolicy()


async def put_contact_policy(
    session: AsyncSession, *, policy: ContactPolicy, now: datetime
) -> ContactPolicy:
    await JourneysRepository(session).upsert(
        ContactPolicyRow,
        {"id": "default", "policy": policy.model_dump(mode="json"), "updated_at": now},
    )
    return policy


async def put_preferences(
    session: AsyncSession, *, owner_id: uuid.UUID, values: dict
) -> KnownOwner:
    """An owner's quiet hours and time zone (profile does not publish these)."""
    repository = JourneysRepository(session)
    await repository.upsert(KnownOwner, {"id": owner_id, **values})
    owner = await repository.get(KnownOwner, owner_id)
    await session.refresh(owner)
    return owner
