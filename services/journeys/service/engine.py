"""The journey runtime: runs due instances, many at a time, step by step.

A pass claims due instances with `FOR UPDATE SKIP LOCKED` (replicas never share one), runs
each through its steps until it waits or ends, and writes every effect (inbox message,
queued deliveries, outbox events, decision log) in the pass's transaction together with the
instances' new step. A crash before commit undoes all of it; the next pass redoes it with the
same effect ids, so nothing is ever sent twice. Instances of one step run as a batch, so an
OTA release to 100,000 owners costs a few hundred statements, not a million.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.domain import MAX_STEPS_PER_PASS, InstanceStatus
from services.journeys.domain.contact import ContactPolicy
from services.journeys.domain.definitions import JourneySpec, WaitStep
from services.journeys.models import Decision, Delivery, Message
from services.journeys.repository import JourneysRepository, Running
from services.journeys.service import configuration
from shared.contracts.journeys import JourneyCompleted
from shared.messaging.envelope import Event


@dataclass
class Pass:
    """One unit of work over a batch of instances; effects are collected, then written."""

    session: AsyncSession
    now: datetime
    repository: JourneysRepository = field(init=False)
    runnable: list[Running] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    events: list[tuple[Event, uuid.UUID | None, str | None]] = field(default_factory=list)
    _policy: ContactPolicy | None = None
    _templates: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.repository = JourneysRepository(self.session)

    async def policy(self) -> ContactPolicy:
        if self._policy is None:
            self._policy = await configuration.contact_policy(self.session)
        return self._policy

    async def template(self, key: str) -> dict:
        if key not in self._templates:
            self._templates[key] = await configuration.message_template(self.session, key)
        return self._templates[key]

    # Moving an instance on

    def go(self, instance: Running, target: str | None) -> None:
        """The step is done: on to `target` now, or the end."""
        instance.visits += 1
        instance.waiting_event = None
        if target is None:
            self.finish(instance, InstanceStatus.COMPLETED)
            return
        instance.step_id = target
        instance.status = InstanceStatus.ACTIVE
        instance.due_at = self.now
        self.runnable.append(instance)

    def sleep(self, instance: Running, target: str | None, until: datetime) -> None:
        """A timed wait: the instance wakes at `until` on `target` (the durable timer)."""
        if until <= self.now:
            self.go(instance, target)
            return
        instance.visits += 1
        instance.step_id = target
        instance.status = InstanceStatus.ACTIVE
        instance.due_at = until

    def await_event(self, instance: Running, step: WaitStep) -> None:
        instance.status = InstanceStatus.WAITING
        instance.waiting_event = step.event
        instance.due_at = self.now + timedelta(hours=step.timeout_hours or 0)

    def finish(self, instance: Running, status: InstanceStatus) -> None:
        instance.status = status
        instance.step_id = None
        instance.due_at = None
        instance.finished_at = self.now
        self.publish(completed_event(instance), instance.owner_id, instance.id)

    def decide(
        self,
        instance: Running,
        step_id: str,
        *,
        outcome: str,
        reason: str,
        channel: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.decisions.append(
            {
                "owner_id": instance.owner_id,
                "journey_key": instance.journey_key,
                "instance_id": instance.id,
                "step_id": step_id,
                "channel": channel,
                "outcome": outcome,
                "reason": reason,
                "detail": detail,
                "at": self.now,
            }
        )

    def publish(self, event: Event, owner_id: uuid.UUID | None, subject: Any = None) -> None:
        self.events.append((event, owner_id, str(subject) if subject is not None else None))

    async def write(self) -> None:
        await self.repository.insert_many(Message, self.messages)
        await self.repository.insert_many(Delivery, self.deliveries)
        await self.repository.insert_many(Decision, self.decisions)
        await self.repository.record_events(self.events)


def completed_event(instance) -> JourneyCompleted:
    return JourneyCompleted(
        instance_id=instance.id, journey_key=instance.journey_key, version=instance.version,
        owner_id=instance.owner_id, status=instance.status, entered_at=instance.entered_at,
        finished_at=instance.finished_at,
    )  # fmt: skip


async def run_due(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Claims and runs up to `limit` due instances; returns how many it claimed."""
    instances = await JourneysRepository(session).claim_due(now, limit)
    if instances:
        await advance(Pass(session, now), instances)
    return len(instances)


async def advance(run: Pass, instances: list[Running]) -> None:
    # Imported here: the steps build on `Pass`, defined above.
    from services.journeys.service.steps import RUNNERS

    specs = {
        definition_id: JourneySpec.model_validate(spec)
        for definition_id, spec in (
            await run.repository.specs(i.definition_id for i in instances)
        ).items()
    }
    for instance in instances:
        _wake(run, specs[instance.definition_id], instance)
    for _ in range(MAX_STEPS_PER_PASS):
        batch, run.runnable = run.runnable, []
        if not batch:
            break
        groups: dict[tuple[uuid.UUID, str], list[Running]] = defaultdict(list)
        for instance in batch:
            groups[(instance.definition_id, instance.step_id)].append(instance)
        for (definition_id, step_id), group in groups.items():
            spec = specs[definition_id]
            step = spec.step(step_id)
            await RUNNERS[step.type](run, spec, step, group)
    for instance in run.runnable:  # a definition bug: leave them due for the next pass
        instance.due_at = run.now
    await run.write()
    await run.repository.save_instances(instances)


def _wake(run: Pass, spec: JourneySpec, instance: Running) -> None:
    """A claimed instance: a wait for an event timed out, a timed wait ended, or it is new."""
    if instance.step_id is None:
        run.finish(instance, InstanceStatus.COMPLETED)
        return
    if instance.status == InstanceStatus.WAITING:
        step = spec.step(instance.step_id)
        assert isinstance(step, WaitStep)
        run.go(instance, step.timeout_next or step.next)
        return
    run.runnable.append(instance)
