"""The base every tickets query class shares, and the scope of a caller's cases."""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    false,
    func,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from services.tickets.models import (
    Ticket,
)
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams
from shared.scoping import in_visible_dealers

M = TypeVar("M", bound=SQLModel)


def ticket_scope(caller: Caller) -> ColumnElement[bool]:
    """Owners see their own cases, dealers the cases routed to them (a dealer group's key, to
    any of its dealers), staff their region."""
    match caller.kind:
        case CallerKind.OWNER:
            return Ticket.owner_id == caller.owner_id if caller.owner_id else false()
        case CallerKind.DEALER:
            return in_visible_dealers(Ticket.dealer_id, caller)
        case CallerKind.STAFF:
            return Ticket.region == caller.region if caller.region else true()
    return false()


class BaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, model: M) -> M:
        self.session.add(model)
        await self.session.flush()
        return model

    async def delete(self, model: SQLModel) -> None:
        await self.session.delete(model)
        await self.session.flush()

    async def page(
        self, model: type[M], page: PageParams, *conditions: Any, order_by: Any
    ) -> tuple[Sequence[M], int]:
        total = await self.session.scalar(
            select(func.count()).select_from(model).where(*conditions)
        )
        rows = await self.session.scalars(
            select(model)
            .where(*conditions)
            .order_by(order_by)
            .limit(page.limit)
            .offset(page.offset)
        )
        return rows.all(), total or 0

    async def get(self, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
        return await self.session.get(model, key, with_for_update=for_update)
