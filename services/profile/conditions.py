"""The segment condition language, and its in-memory evaluation for one owner.

A condition is a JSON tree in the manner of Apache Unomi's conditions:

    {"kind": "and" | "or", "conditions": [...]}      {"kind": "not", "condition": {...}}
    {"kind": "compare", "attribute": "latest_nps", "op": "ge", "value": 9}
    {"kind": "in", "attribute": "city", "values": ["Shanghai", "Hangzhou"]}
    {"kind": "has_tag", "tag": "beta_tester"}
    {"kind": "event", "event_type": "community_post_created", "within_days": 30,
     "min_count": 3, "where": {"topic": "ota"}}

The same tree compiles to SQL (`repository/segments.py`) for counts and batch evaluation.
Both paths read the same facts and treat an unknown (null) attribute as not satisfying
a comparison, so `not` of a comparison on a null attribute holds on both paths.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
)

MAX_WINDOW_DAYS = 3650


class AttributeType(StrEnum):
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Attribute:
    type: AttributeType
    description: str


# What a condition may name. `service_due_in_days` is derived from the due date and today.
ATTRIBUTES: dict[str, Attribute] = {
    "city": Attribute(AttributeType.TEXT, "the owner's city"),
    "preferred_language": Attribute(AttributeType.TEXT, "en or zh"),
    "lifecycle_stage": Attribute(AttributeType.TEXT, "awareness ... loyalty"),
    "points_balance": Attribute(AttributeType.NUMBER, "loyalty points"),
    "latest_nps": Attribute(AttributeType.NUMBER, "latest NPS answer, 0-10"),
    "latest_csat": Attribute(AttributeType.NUMBER, "latest CSAT answer, 1-5"),
    "detractor": Attribute(AttributeType.BOOLEAN, "latest NPS or CSAT answer was a detractor"),
    "open_tickets": Attribute(AttributeType.NUMBER, "cases not yet resolved"),
    "open_complaints": Attribute(AttributeType.NUMBER, "complaints not yet resolved"),
    "assisted_driving_share": Attribute(AttributeType.NUMBER, "share of distance, 0-1"),
    "new_apps_30d": Attribute(AttributeType.NUMBER, "in-car apps first used in 30 days"),
    "harsh_events_per_100km": Attribute(AttributeType.NUMBER, "harsh accel. + braking"),
    "family_destination_share": Attribute(
        AttributeType.NUMBER, "share of visits to schools and supermarkets, 0-1"
    ),
    "distance_km_30d": Attribute(AttributeType.NUMBER, "distance driven in 30 days"),
    "service_due_in_days": Attribute(AttributeType.NUMBER, "days until predicted service"),
}

OPERATORS_BY_TYPE: dict[AttributeType, frozenset[str]] = {
    AttributeType.NUMBER: frozenset({"eq", "ne", "lt", "le", "gt", "ge"}),
    # Ordering text depends on collation, which differs between the two paths: not offered.
    AttributeType.TEXT: frozenset({"eq", "ne"}),
    AttributeType.BOOLEAN: frozenset({"eq", "ne"}),
}

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Compare(_Node):
    kind: Literal["compare"]
    attribute: str
    op: Literal["eq", "ne", "lt", "le", "gt", "ge"]
    value: Scalar


class In(_Node):
    kind: Literal["in"]
    attribute: str
    values: list[Scalar] = Field(min_length=1, max_length=200)


class HasTag(_Node):
    kind: Literal["has_tag"]
    tag: str = Field(min_length=1, max_length=64)


class PastEvent(_Node):
    kind: Literal["event"]
    event_type: str
    within_days: int = Field(ge=1, le=MAX_WINDOW_DAYS)
    min_count: int = Field(default=1, ge=1, le=100_000)
    where: dict[str, StrictStr] = Field(default_factory=dict, max_length=10)


class And(_Node):
    kind: Literal["and"]
    conditions: list["Condition"] = Field(min_length=1, max_length=50)


class Or(_Node):
    kind: Literal["or"]
    conditions: list["Condition"] = Field(min_length=1, max_length=50)


class Not(_Node):
    kind: Literal["not"]
    condition: "Condition"


Condition = Annotated[
    And | Or | Not | Compare | In | HasTag | PastEvent, Field(discriminator="kind")
]
for _model in (And, Or, Not):
    _model.model_rebuild()


def semantic_problems(
    condition: Condition, known_event_types: frozenset[str], *, path: str
) -> list[tuple[str, str]]:
    """(field, message) for each leaf that names an unknown attribute or event type, or an
    operator or value that does not fit the attribute's type."""
    match condition:
        case And() | Or():
            return [
                problem
                for index, child in enumerate(condition.conditions)
                for problem in semantic_problems(
                    child, known_event_types, path=f"{path}.conditions.{index}"
                )
            ]
        case Not():
            return semantic_problems(
                condition.condition, known_event_types, path=f"{path}.condition"
            )
        case Compare():
            return _attribute_problems(condition.attribute, condition.op, [condition.value], path)
        case In():
            return _attribute_problems(condition.attribute, "eq", condition.values, path)
        case PastEvent() if condition.event_type not in known_event_types:
            return [(f"{path}.event_type", f"unknown event type {condition.event_type!r}")]
    return []


def _attribute_problems(name: str, op: str, values: list, path: str) -> list[tuple[str, str]]:
    attribute = ATTRIBUTES.get(name)
    if attribute is None:
        known = ", ".join(sorted(ATTRIBUTES))
        return [(f"{path}.attribute", f"unknown attribute {name!r}; known: {known}")]
    if op not in OPERATORS_BY_TYPE[attribute.type]:
        allowed = ", ".join(sorted(OPERATORS_BY_TYPE[attribute.type]))
        return [(f"{path}.op", f"{name} is {attribute.type}; operators allowed: {allowed}")]
    if not all(_fits(attribute.type, value) for value in values):
        return [(f"{path}.value", f"{name} is {attribute.type}; got {values!r}")]
    return []


def _fits(kind: AttributeType, value: Any) -> bool:
    if kind is AttributeType.BOOLEAN:
        return isinstance(value, bool)
    if kind is AttributeType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def max_window_days(condition: Condition) -> int:
    """The longest event window the tree looks back over (0 when it names no events)."""
    match condition:
        case And() | Or():
            return max(max_window_days(child) for child in condition.conditions)
        case Not():
            return max_window_days(condition.condition)
        case PastEvent():
            return condition.within_days
    return 0


# In-memory path


@dataclass(frozen=True)
class PastEventFact:
    type: str
    occurred_at: datetime
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class OwnerSnapshot:
    """Everything a condition can look at, for one owner at one moment."""

    attributes: Mapping[str, Any]
    tags: frozenset[str]
    events: tuple[PastEventFact, ...]
    now: datetime


def attribute_values(
    facts: Mapping[str, Any], *, city: str | None, language: str | None, today: date
) -> dict[str, Any]:
    """The attribute dictionary of one owner, from its facts row (as a mapping)."""
    due: date | None = facts.get("service_due_date")
    values = {name: facts.get(name) for name in ATTRIBUTES}
    values |= {
        "city": city,
        "preferred_language": language,
        "service_due_in_days": (due - today).days if due else None,
    }
    return values


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def evaluate(condition: Condition, owner: OwnerSnapshot) -> bool:
    match condition:
        case And():
            return all(evaluate(child, owner) for child in condition.conditions)
        case Or():
            return any(evaluate(child, owner) for child in condition.conditions)
        case Not():
            return not evaluate(condition.condition, owner)
        case Compare():
            actual = owner.attributes.get(condition.attribute)
            return actual is not None and _COMPARATORS[condition.op](actual, condition.value)
        case In():
            actual = owner.attributes.get(condition.attribute)
            return actual is not None and actual in condition.values
        case HasTag():
            return condition.tag in owner.tags
        case PastEvent():
            return _event_count(condition, owner) >= condition.min_count
    raise AssertionError(f"unhandled condition {condition!r}")


def _event_count(condition: PastEvent, owner: OwnerSnapshot) -> int:
    since = owner.now - timedelta(days=condition.within_days)
    return sum(
        1
        for event in owner.events
        if event.type == condition.event_type
        and since <= event.occurred_at <= owner.now
        and all(event.properties.get(k) == v for k, v in condition.where.items())
    )


def reasons(condition: Condition, owner: OwnerSnapshot) -> list[str]:
    """Why an owner is in a segment: the leaves that held, in words."""
    match condition:
        case And() | Or():
            return [
                reason
                for child in condition.conditions
                if evaluate(child, owner)
                for reason in reasons(child, owner)
            ]
        case Not():
            return [f"not ({describe(condition.condition)})"]
    return [describe(condition)] if evaluate(condition, owner) else []


_OP_WORDS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def describe(condition: Condition) -> str:
    match condition:
        case And() | Or():
            joined = f" {condition.kind} ".join(describe(c) for c in condition.conditions)
            return f"({joined})"
        case Not():
            return f"not {describe(condition.condition)}"
        case Compare():
            return f"{condition.attribute} {_OP_WORDS[condition.op]} {condition.value!r}"
        case In():
            return f"{condition.attribute} in {condition.values!r}"
        case HasTag():
            return f"tagged {condition.tag!r}"
        case PastEvent():
            where = f" with {condition.where}" if condition.where else ""
            return (
                f"at least {condition.min_count} {condition.event_type}{where} "
                f"in the last {condition.within_days} days"
            )
    raise AssertionError(f"unhandled condition {condition!r}")


_CONDITION = TypeAdapter(Condition)


def parse_condition(data: Any) -> Condition:
    """A stored (already validated) condition back into its tree."""
    return _CONDITION.validate_python(data)


def condition_json(condition: Condition) -> dict:
    return _CONDITION.dump_python(condition, mode="json", exclude_defaults=False)
