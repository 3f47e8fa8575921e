"""What a consumed event does beyond the projections: wakes instances waiting for it,
counts conversions toward goals, and enters owners into the journeys it triggers."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.domain import InstanceStatus
from services.journeys.domain.definitions import JourneySpec, WaitStep
from services.journeys.domain.runtime import event_concerns
from services.journeys.repository import JourneysRepository
from services.journeys.service.engine import completed_event
from services.journeys.service.entry import Entrant, on_trigger
from shared.messaging.outbox import record_event


async def react(
    session: AsyncSession, event: str, entrants: list[Entrant], *, event_id: uuid.UUID,
    now: datetime,
) -> None:  # fmt: skip
    repository = JourneysRepository(session)
    goals = await repository.active_goals(event)
    awaited = await repository.anyone_waiting_for(event)
    for entrant in entrants:
        if awaited:
            await _resume(repository, event, entrant.owner_id, entrant.context, now)
        if goals:
            await repository.mark_converted(entrant.owner_id, goals, now)
    await on_trigger(session, event, entrants, event_id=event_id, now=now)


async def _resume(
    repository: JourneysRepository, event: str, owner_id: uuid.UUID, facts: dict[str, Any],
    now: datetime,
) -> None:  # fmt: skip
    waiting = [i for i in await repository.waiting_for(owner_id, event)
               if event_concerns(i.context, facts)]  # fmt: skip
    if not waiting:
        return
    specs = await repository.specs(i.definition_id for i in waiting)
    for instance in waiting:
        step = JourneySpec.model_validate(specs[instance.definition_id]).step(instance.step_id)
        assert isinstance(step, WaitStep)
        received = [*instance.context.get("received", []), event]
        instance.context = {**instance.context, "received": received}
        instance.visits += 1
        instance.waiting_event = None
        instance.step_id = step.next
        if step.next is None:
            instance.status, instance.due_at = InstanceStatus.COMPLETED, None
            instance.finished_at = now
            await record_event(repository.session, completed_event(instance), owner_id=owner_id,
                               subject=instance.id)  # fmt: skip
        else:
            # The step worker takes it from here.
            instance.status, instance.due_at = InstanceStatus.ACTIVE, now
    await repository.session.flush()
