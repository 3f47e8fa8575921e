"""The condition language on its own: validation, evaluation and the words for why."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.profile.catalogue import EVENT_TYPES
from services.profile.conditions import (
    OwnerSnapshot,
    PastEventFact,
    describe,
    evaluate,
    parse_condition,
    reasons,
    semantic_problems,
)
from services.profile.standard_segments import STANDARD_SEGMENTS

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
KNOWN = frozenset(EVENT_TYPES)


def owner(attributes=None, tags=(), events=()) -> OwnerSnapshot:
    return OwnerSnapshot(
        attributes=attributes or {}, tags=frozenset(tags), events=tuple(events), now=NOW
    )


def posts(count: int, days_ago: float, type_: str = "community_post_created") -> list:
    at = NOW - timedelta(days=days_ago)
    return [PastEventFact(type_, at, {"post_id": str(i)}) for i in range(count)]


@pytest.mark.parametrize("segment", STANDARD_SEGMENTS, ids=lambda s: s["key"])
def test_every_shipped_segment_is_valid(segment):
    assert semantic_problems(parse_condition(segment["condition"]), KNOWN, path="c") == []


def test_a_super_user_posts_draws_engagement_and_recommends():
    condition = parse_condition(
        next(s for s in STANDARD_SEGMENTS if s["key"] == "super_user")["condition"]
    )
    active = posts(3, 2) + posts(10, 5, "community_post_engaged")
    assert evaluate(condition, owner({"latest_nps": 10}, events=active))
    assert not evaluate(condition, owner({"latest_nps": 8}, events=active))
    # Posts older than the window no longer count.
    stale = posts(3, 31) + posts(10, 5, "community_post_engaged")
    assert not evaluate(condition, owner({"latest_nps": 10}, events=stale))
    assert reasons(condition, owner({"latest_nps": 10}, events=active)) == [
        "at least 3 community_post_created in the last 30 days",
        "at least 10 community_post_engaged in the last 30 days",
        "latest_nps >= 9",
    ]


def test_an_unknown_attribute_never_satisfies_a_comparison_but_its_negation_holds():
    condition = parse_condition(
        {"kind": "compare", "attribute": "latest_nps", "op": "le", "value": 6}
    )
    assert not evaluate(condition, owner({"latest_nps": None}))
    assert evaluate(parse_condition({"kind": "not", "condition": condition.model_dump()}), owner())


def test_event_conditions_can_filter_on_properties():
    condition = parse_condition(
        {"kind": "event", "event_type": "feature_used", "within_days": 7,
         "where": {"feature": "assisted_driving"}}
    )  # fmt: skip
    used = PastEventFact("feature_used", NOW - timedelta(days=1), {"feature": "assisted_driving"})
    other = PastEventFact("feature_used", NOW - timedelta(days=1), {"feature": "navigation"})
    assert evaluate(condition, owner(events=[used]))
    assert not evaluate(condition, owner(events=[other]))
    assert describe(condition) == (
        "at least 1 feature_used with {'feature': 'assisted_driving'} in the last 7 days"
    )


def test_semantic_problems_name_each_bad_leaf():
    condition = parse_condition(
        {"kind": "and", "conditions": [
            {"kind": "compare", "attribute": "shoe_size", "op": "gt", "value": 40},
            {"kind": "compare", "attribute": "city", "op": "gt", "value": "A"},
            {"kind": "in", "attribute": "latest_nps", "values": ["nine"]},
            {"kind": "event", "event_type": "moon_landing", "within_days": 3},
        ]}
    )  # fmt: skip
    problems = dict(semantic_problems(condition, KNOWN, path="c"))
    assert "unknown attribute 'shoe_size'" in problems["c.conditions.0.attribute"]
    assert "operators allowed: eq, ne" in problems["c.conditions.1.op"]
    assert "latest_nps is number" in problems["c.conditions.2.value"]
    assert problems["c.conditions.3.event_type"] == "unknown event type 'moon_landing'"


def test_a_malformed_tree_is_refused_by_the_parser():
    with pytest.raises(ValidationError):
        parse_condition({"kind": "and", "conditions": []})
    with pytest.raises(ValidationError):
        parse_condition({"kind": "xor"})
