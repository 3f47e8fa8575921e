"""The owner's in-app inbox: their messages only, with each channel's delivery status."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.errors import MessageNotFound
from services.journeys.models import Delivery, Message
from services.journeys.repository import JourneysRepository
from shared.pagination import PageParams


async def list_messages(
    session: AsyncSession, *, owner_id: uuid.UUID, page: PageParams, unread: bool | None
) -> tuple[Sequence[Message], int, dict[uuid.UUID, list[Delivery]]]:
    conditions = [Message.owner_id == owner_id]
    if unread is not None:
        conditions.append(Message.read_at.is_(None) if unread else Message.read_at.is_not(None))
    repository = JourneysRepository(session)
    messages, total = await repository.page(
        Message, page, *conditions, order_by=(Message.created_at.desc(), Message.id)
    )
    return messages, total, await _deliveries(repository, messages)


async def mark_read(
    session: AsyncSession, *, owner_id: uuid.UUID, message_id: uuid.UUID, now: datetime
) -> tuple[Message, dict[uuid.UUID, list[Delivery]]]:
    """Marks one of the owner's messages read (the first reading time is kept)."""
    repository = JourneysRepository(session)
    message = await repository.owner_message(owner_id, message_id, for_update=True)
    if message is None:
        raise MessageNotFound(f"no message {message_id}")
    message.read_at = message.read_at or now
    await session.flush()
    return message, await _deliveries(repository, [message])


async def _deliveries(
    repository: JourneysRepository, messages: Sequence[Message]
) -> dict[uuid.UUID, list[Delivery]]:
    found: dict[uuid.UUID, list[Delivery]] = {m.id: [] for m in messages}
    for delivery in await repository.deliveries_of(list(found)):
        found[delivery.message_id].append(delivery)
    return found
