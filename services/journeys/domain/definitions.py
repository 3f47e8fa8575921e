"""What a journey definition is (trigger, audience, steps) and when it is valid: every
step reachable, no cycle without a wait, only known events."""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.journeys.domain import (
    KEY_PATTERN,
    KNOWN_EVENTS,
    STEP_ID_PATTERN,
    Category,
    Channel,
    Condition,
    Strict,
)
from shared.errors import FieldError, InvalidInput

# Triggers


class EventTrigger(Strict):
    type: Literal["event"]
    event: str
    filter: Condition = Condition()


class SegmentTrigger(Strict):
    type: Literal["segment_entered"]
    segment: str


class DateTrigger(Strict):
    """A date relative to a profile fact: the Nth anniversary of delivery (purchase)."""

    type: Literal["date"]
    fact: Literal["purchase_anniversary"] = "purchase_anniversary"
    years: int = Field(default=1, ge=1, le=30)


class AudienceTrigger(Strict):
    """A one-off run over everyone in the audience, started by staff (an OTA release)."""

    type: Literal["audience"]


class RecallTrigger(Strict):
    """Entered by a recall import: one run per affected vehicle."""

    type: Literal["recall"]


Trigger = Annotated[
    EventTrigger | SegmentTrigger | DateTrigger | AudienceTrigger | RecallTrigger,
    Field(discriminator="type"),
]


# Steps


class _Step(Strict):
    id: str = Field(pattern=STEP_ID_PATTERN)
    # The step after this one; none ends the journey (completed).
    next: str | None = None

    def targets(self) -> Iterator[tuple[str, str]]:
        """(field, step id) of every step this one may lead to."""
        if self.next:
            yield "next", self.next

    @property
    def waits(self) -> bool:
        return False


class WaitStep(_Step):
    """Waits a duration, until a moment, or for an event (then `next`) with a timeout
    (then `timeout_next`, or `next` when not given)."""

    type: Literal["wait"]
    hours: float | None = Field(default=None, gt=0, le=24 * 366)
    until: datetime | None = None
    event: str | None = None
    timeout_hours: float | None = Field(default=None, gt=0, le=24 * 366)
    timeout_next: str | None = None

    @model_validator(mode="after")
    def _one_kind_of_wait(self) -> "WaitStep":
        given = [name for name in ("hours", "until", "event") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a wait needs exactly one of `hours`, `until` or `event`")
        if self.event is not None and self.timeout_hours is None:
            raise ValueError("a wait for an event needs `timeout_hours`")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("`until` needs a time zone")
        return self

    def targets(self) -> Iterator[tuple[str, str]]:
        yield from super().targets()
        if self.timeout_next:
            yield "timeout_next", self.timeout_next

    @property
    def waits(self) -> bool:
        return True


class BranchCase(Strict):
    when: Condition
    next: str


class BranchStep(_Step):
    """The first case whose condition holds wins; otherwise `next` (or the end)."""

    type: Literal["branch"]
    cases: list[BranchCase] = Field(min_length=1, max_length=20)

    def targets(self) -> Iterator[tuple[str, str]]:
        for index, case in enumerate(self.cases):
            yield f"cases.{index}.next", case.next
        yield from super().targets()


class MessageStep(_Step):
    type: Literal["message"]
    template: str = Field(pattern=KEY_PATTERN)
    # The in-app inbox always receives the message; these channels are tried as well.
    channels: list[Channel] = [Channel.APP_PUSH]
    # Defaults to the journey's category.
    category: Category | None = None


class SurveyStep(_Step):
    type: Literal["survey"]
    survey_key: str = Field(min_length=1, max_length=64)
    touchpoint: str = Field(min_length=1, max_length=64)


class TicketStep(_Step):
    type: Literal["ticket"]
    kind: str = Field(min_length=1, max_length=32)
    category: str | None = Field(default=None, max_length=64)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    description: str = Field(min_length=1, max_length=2000)


class PointsStep(_Step):
    type: Literal["points"]
    points: int = Field(gt=0, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)


class CouponStep(_Step):
    type: Literal["coupon"]
    coupon: str = Field(pattern=KEY_PATTERN)
    valid_days: int = Field(default=90, ge=1, le=3650)


class TagStep(_Step):
    type: Literal["tag"]
    tag: str = Field(min_length=1, max_length=64)
    add: bool = True


class WebhookStep(_Step):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)


class ExitStep(_Step):
    type: Literal["exit"]


Step = Annotated[
    WaitStep
    | BranchStep
    | MessageStep
    | SurveyStep
    | TicketStep
    | PointsStep
    | CouponStep
    | TagStep
    | WebhookStep
    | ExitStep,
    Field(discriminator="type"),
]


class Reentry(Strict):
    """`once`: an owner enters a journey once ever; `after_exit`: again once the previous
    instance finished; `always`: every trigger. `cooldown_hours` spaces entries apart."""

    mode: Literal["once", "after_exit", "always"] = "after_exit"
    cooldown_hours: float = Field(default=0, ge=0, le=24 * 3660)


class Goal(Strict):
    """A conversion: the goal event for the owner within the window after entering."""

    event: str
    within_hours: float = Field(gt=0, le=24 * 366)


class JourneyBody(Strict):
    """A journey's definition, as a new version of an existing key is written."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    category: Category
    trigger: Trigger
    audience: Condition = Condition()
    steps: list[Step] = Field(min_length=1, max_length=100)
    # The first step; defaults to the first in the list.
    entry: str | None = None
    reentry: Reentry = Reentry()
    holdout_percent: int = Field(default=0, ge=0, le=50)
    goal: Goal | None = None

    @property
    def entry_step(self) -> str:
        return self.entry or self.steps[0].id

    def step(self, step_id: str) -> _Step:
        return next(step for step in self.steps if step.id == step_id)

    def templates(self) -> Iterator[tuple[str, str]]:
        for index, step in enumerate(self.steps):
            if isinstance(step, MessageStep):
                yield f"steps.{index}.template", step.template


class JourneySpec(JourneyBody):
    key: str = Field(pattern=KEY_PATTERN)


def validate_spec(spec: JourneySpec, *, prefix: str = "body") -> None:
    """Raises InvalidInput naming every broken field: unknown events or steps, unreachable
    steps, and cycles that could spin without ever waiting."""
    errors = list(_event_errors(spec)) + list(_graph_errors(spec))
    if errors:
        errors = [FieldError(field=f"{prefix}.{e.field}", message=e.message) for e in errors]
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _event_errors(spec: JourneySpec) -> Iterator[FieldError]:
    named: list[tuple[str, str | None]] = [
        ("trigger.event", getattr(spec.trigger, "event", None)),
        ("goal.event", spec.goal.event if spec.goal else None),
    ]
    named += [
        (f"steps.{i}.event", s.event) for i, s in enumerate(spec.steps) if isinstance(s, WaitStep)
    ]
    for name, event in named:
        if event is not None and event not in KNOWN_EVENTS:
            yield FieldError(field=name, message=f"unknown event {event!r}")


def _graph_errors(spec: JourneySpec) -> Iterator[FieldError]:
    index_of: dict[str, int] = {}
    for index, step in enumerate(spec.steps):
        if step.id in index_of:
            yield FieldError(field=f"steps.{index}.id", message=f"duplicate step id {step.id!r}")
        index_of.setdefault(step.id, index)
    if spec.entry_step not in index_of:
        yield FieldError(field="entry", message=f"no step {spec.entry_step!r}")
        return
    broken = False
    for index, step in enumerate(spec.steps):
        for name, target in step.targets():
            if target not in index_of:
                broken = True
                yield FieldError(field=f"steps.{index}.{name}", message=f"no step {target!r}")
    if broken:
        return
    edges = {step.id: [target for _, target in step.targets()] for step in spec.steps}
    reachable = _reachable(spec.entry_step, edges)
    for index, step in enumerate(spec.steps):
        if step.id not in reachable:
            yield FieldError(field=f"steps.{index}", message=f"step {step.id!r} is unreachable")
    waits = {step.id for step in spec.steps if step.waits}
    for step_id in _cycle_without_wait(edges, waits):
        yield FieldError(
            field=f"steps.{index_of[step_id]}",
            message=f"step {step_id!r} is on a cycle without a wait",
        )


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for target in edges[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _cycle_without_wait(edges: dict[str, list[str]], waits: set[str]) -> list[str]:
    """Steps on a cycle of the graph with wait steps removed (such a cycle never pauses)."""
    graph = {node: [t for t in targets if t not in waits] for node, targets in edges.items()}
    graph = {node: targets for node, targets in graph.items() if node not in waits}
    on_cycle: list[str] = []
    for node in graph:
        if node in _reachable_from_successors(node, graph):
            on_cycle.append(node)
    return on_cycle


def _reachable_from_successors(node: str, graph: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(graph[node])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(graph.get(current, []))
    return seen
