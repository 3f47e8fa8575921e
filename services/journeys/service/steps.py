"""What each kind of step does to a batch of instances standing on it.

Steps that ask another service for something (a case, a survey, points, a coupon, a tag)
write one outbox event whose `request_id` is the step's effect id, so a consumer applies it
once even if the event is delivered twice. A webhook is queued as a delivery."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from services.journeys.domain import InstanceStatus, holds
from services.journeys.domain.definitions import (
    BranchStep,
    CouponStep,
    ExitStep,
    JourneySpec,
    PointsStep,
    SurveyStep,
    TagStep,
    TicketStep,
    WaitStep,
    WebhookStep,
)
from services.journeys.domain.runtime import step_request_id
from services.journeys.repository import Running
from services.journeys.service.engine import Pass
from services.journeys.service.sending import send_messages
from shared.contracts.journeys import (
    CouponIssued,
    PointsAwarded,
    SurveyRequested,
    TagChanged,
    TicketRequested,
)
from shared.messaging.envelope import Event

Runner = Callable[[Pass, JourneySpec, object, list[Running]], Awaitable[None]]


def _request_id(instance: Running, step) -> uuid.UUID:
    return step_request_id(instance.id, step.id, instance.visits)


async def wait(run: Pass, spec: JourneySpec, step: WaitStep, instances) -> None:
    for instance in instances:
        if step.event is not None:
            run.await_event(instance, step)
        elif step.until is not None:
            run.sleep(instance, step.next, step.until)
        else:
            run.sleep(instance, step.next, run.now + timedelta(hours=step.hours or 0))


async def branch(run: Pass, spec: JourneySpec, step: BranchStep, instances) -> None:
    facts = await run.repository.owner_facts(list({i.owner_id for i in instances}))
    for instance in instances:
        owner = facts[instance.owner_id]
        owner.context = instance.context
        owner.received = set(instance.context.get("received", []))
        target = next((case.next for case in step.cases if holds(case.when, owner)), step.next)
        run.go(instance, target)


async def ticket(run: Pass, spec: JourneySpec, step: TicketStep, instances) -> None:
    """A case at the dealer the trigger named (the servicing dealer), else the owner's."""
    contacts = await run.repository.contacts(list({i.owner_id for i in instances}))

    def dealer_of(instance: Running) -> str | None:
        owner = contacts.get(instance.owner_id)
        known = str(owner.dealer_id) if owner and owner.dealer_id else None
        return instance.context.get("dealer_id") or known

    _ask(run, step, instances, lambda instance, request_id: TicketRequested(
        request_id=request_id, journey_key=instance.journey_key, kind=step.kind,
        category=step.category, priority=step.priority, owner_id=instance.owner_id,
        vehicle_id=instance.context.get("vehicle_id"), dealer_id=dealer_of(instance),
        description=_describe(step.description, instance.context),
        source_type=instance.context.get("source_type", "journey"),
        source_id=instance.context.get("source_id", str(request_id)), requested_at=run.now,
    ))  # fmt: skip


def _describe(description: str, context: dict) -> str:
    facts = ", ".join(
        f"{key}: {context[key]}"
        for key in ("vin", "model", "component", "batch_code", "recall_code", "mileage_km")
        if context.get(key) is not None
    )
    return f"{description} ({facts})" if facts else description


def _ask(run: Pass, step, instances, request: Callable[[Running, uuid.UUID], Event]) -> None:
    """One request event per instance, named by the step's effect id, then on to `next`."""
    for instance in instances:
        request_id = _request_id(instance, step)
        run.publish(request(instance, request_id), instance.owner_id, request_id)
        run.go(instance, step.next)


async def survey(run: Pass, spec: JourneySpec, step: SurveyStep, instances) -> None:
    _ask(run, step, instances, lambda instance, request_id: SurveyRequested(
        request_id=request_id, journey_key=instance.journey_key, owner_id=instance.owner_id,
        survey_key=step.survey_key, touchpoint=step.touchpoint, requested_at=run.now,
    ))  # fmt: skip


async def points(run: Pass, spec: JourneySpec, step: PointsStep, instances) -> None:
    _ask(run, step, instances, lambda instance, request_id: PointsAwarded(
        request_id=request_id, journey_key=instance.journey_key, owner_id=instance.owner_id,
        points=step.points, reason=step.reason, awarded_at=run.now,
    ))  # fmt: skip


async def coupon(run: Pass, spec: JourneySpec, step: CouponStep, instances) -> None:
    _ask(run, step, instances, lambda instance, request_id: CouponIssued(
        request_id=request_id, journey_key=instance.journey_key, owner_id=instance.owner_id,
        coupon=step.coupon, valid_until=run.now + timedelta(days=step.valid_days),
        issued_at=run.now,
    ))  # fmt: skip


async def tag(run: Pass, spec: JourneySpec, step: TagStep, instances) -> None:
    rows = [{"owner_id": i.owner_id, "tag": step.tag} for i in instances]
    await run.repository.set_tags(rows, add=step.add)
    _ask(run, step, instances, lambda instance, request_id: TagChanged(
        request_id=request_id, journey_key=instance.journey_key, owner_id=instance.owner_id,
        tag=step.tag, added=step.add, changed_at=run.now,
    ))  # fmt: skip


async def webhook(run: Pass, spec: JourneySpec, step: WebhookStep, instances) -> None:
    for instance in instances:
        request_id = _request_id(instance, step)
        run.deliveries.append(
            {"id": request_id, "owner_id": instance.owner_id, "channel": "webhook",
             "category": spec.category, "priority": 2, "status": "queued", "attempts": 0,
             "not_before": run.now, "created_at": run.now,
             "payload": {"url": step.url, "body": {
                 "request_id": str(request_id), "journey_key": instance.journey_key,
                 "step_id": step.id, "owner_id": str(instance.owner_id),
                 "context": instance.context}}}
        )  # fmt: skip
        run.go(instance, step.next)


async def exit_(run: Pass, spec: JourneySpec, step: ExitStep, instances) -> None:
    for instance in instances:
        instance.visits += 1
        run.finish(instance, InstanceStatus.EXITED)


RUNNERS: dict[str, Runner] = {
    "wait": wait,
    "branch": branch,
    "message": send_messages,
    "survey": survey,
    "ticket": ticket,
    "points": points,
    "coupon": coupon,
    "tag": tag,
    "webhook": webhook,
    "exit": exit_,
}
