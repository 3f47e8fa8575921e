"""The queries every service's repository starts from: add, get, delete, a page with its
total, and the upsert that keeps a projection of another service's records. They flush,
never commit: the request (or the event handler) owns the transaction."""

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from shared.pagination import PageParams

M = TypeVar("M", bound=SQLModel)


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, model: M) -> M:
        self.session.add(model)
        await self.session.flush()
        return model

    async def get(self, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
        return await self.session.get(model, key, with_for_update=for_update)

    async def delete(self, record: SQLModel) -> None:
        await self.session.delete(record)
        await self.session.flush()

    async def page(
        self, model: type[M], page: PageParams, *conditions: Any, order_by: Any
    ) -> tuple[list[M], int]:
        """One page of the rows that meet every condition, and how many meet them in all.
        `order_by` is one ordering or a sequence of them."""
        ordering = order_by if isinstance(order_by, tuple | list) else (order_by,)
        total = await self.session.scalar(
            select(func.count()).select_from(model).where(*conditions)
        )
        rows = await self.session.scalars(
            select(model)
            .where(*conditions)
            .order_by(*ordering)
            .limit(page.limit)
            .offset(page.offset)
        )
        return list(rows.all()), total or 0

    async def upsert(
        self, model: type[SQLModel], values: dict[str, Any], *, insert_only: set[str] = frozenset()
    ) -> None:
        """Inserts a projected record or overwrites the fields given, except `insert_only`."""
        statement = _upsert_statement(model.__table__, frozenset(values), frozenset(insert_only))
        await self.session.execute(statement, values)


@cache
def _upsert_statement(table: Table, names: frozenset[str], insert_only: frozenset[str]) -> Insert:
    """Built once per table and set of fields: event handlers upsert projections for every
    event, and building the statement anew cost more than running it."""
    keys = [column.name for column in table.primary_key.columns]
    statement = insert(table)
    changed = {
        name: statement.excluded[name]
        for name in sorted(names)
        if name not in keys and name not in insert_only
    }
    if changed:
        return statement.on_conflict_do_update(index_elements=keys, set_=changed)
    return statement.on_conflict_do_nothing(index_elements=keys)
