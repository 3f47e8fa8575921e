"""Per journey and step: entered, waiting, messaged, deferred and suppressed by each guard
rail, converted, exited; and the treatment group's conversion against the holdout's."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.domain import InstanceStatus
from services.journeys.models import Decision
from services.journeys.repository import JourneysRepository
from shared.pagination import PageParams


async def metrics(session: AsyncSession, *, key: str) -> dict[str, Any]:
    repository = JourneysRepository(session)
    groups = {False: defaultdict(int), True: defaultdict(int)}
    for holdout, status, instances, converted in await repository.instance_counts(key):
        groups[holdout][status] += instances
        groups[holdout]["converted"] += converted
    treated, held = groups[False], groups[True]
    entered = sum(v for k, v in treated.items() if k != "converted")
    held_out = held[InstanceStatus.HELD_OUT]
    return {
        "key": key,
        "entered": entered,
        "running": treated[InstanceStatus.ACTIVE] + treated[InstanceStatus.WAITING],
        "waiting": treated[InstanceStatus.WAITING],
        "completed": treated[InstanceStatus.COMPLETED],
        "exited": treated[InstanceStatus.EXITED],
        "converted": treated["converted"],
        "holdout": {
            "held_out": held_out,
            "converted": held["converted"],
            "treated_conversion_rate": _rate(treated["converted"], entered),
            "holdout_conversion_rate": _rate(held["converted"], held_out),
            "uplift": round(
                _rate(treated["converted"], entered) - _rate(held["converted"], held_out), 4
            ),
        },
        "steps": await _steps(repository, key),
    }


async def _steps(repository: JourneysRepository, key: str) -> dict[str, dict[str, Any]]:
    steps: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"standing": 0, "messaged": 0, "deferred": defaultdict(int),
                 "suppressed": defaultdict(int)}
    )  # fmt: skip
    for step_id, count in await repository.standing_at_steps(key):
        if step_id:
            steps[step_id]["standing"] = count
    for step_id, outcome, reason, owners in await repository.decision_counts(key):
        if outcome == "sent":
            steps[step_id]["messaged"] += owners
        elif outcome in ("deferred", "suppressed"):
            steps[step_id][outcome][reason] += owners
    return {step: {**value, "deferred": dict(value["deferred"]),
                   "suppressed": dict(value["suppressed"])}
            for step, value in steps.items()}  # fmt: skip


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


async def decision_log(
    session: AsyncSession, *, owner_id: uuid.UUID, page: PageParams, journey_key: str | None
) -> tuple[Sequence[Decision], int]:
    """Why each step sent, deferred or suppressed a message for the owner, newest first."""
    conditions = [Decision.owner_id == owner_id]
    if journey_key:
        conditions.append(Decision.journey_key == journey_key)
    return await JourneysRepository(session).page(
        Decision, page, *conditions, order_by=(Decision.at.desc(), Decision.id.desc())
    )
