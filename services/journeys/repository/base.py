"""What every journeys query module shares: the claimed-instance record and bulk helpers."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy.dialects import postgresql

CHUNK = 5000


@dataclass(eq=False)
class Running:
    """A claimed instance as the engine moves it on: a plain record, saved in bulk."""

    # The context only changes when an awaited event arrives, which is not the engine's work.
    SAVED: ClassVar[tuple[str, ...]] = (
        "status", "step_id", "visits", "due_at", "waiting_event", "finished_at",
    )  # fmt: skip

    id: uuid.UUID
    definition_id: uuid.UUID
    journey_key: str
    version: int
    owner_id: uuid.UUID
    run_key: str
    status: str
    priority: int
    step_id: str | None
    visits: int
    due_at: datetime | None
    waiting_event: str | None
    context: dict
    holdout: bool
    entered_at: datetime
    finished_at: datetime | None
    converted_at: datetime | None


def arrays(table, columns: Iterable[str]) -> str:
    """`CAST(:name AS type[])` for each column: the parameters of an `unnest`."""
    dialect = postgresql.dialect()
    return ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns
    )


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
