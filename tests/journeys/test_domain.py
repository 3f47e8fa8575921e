"""Journeys' pure rules, without fixtures: graph validation, conditions, quiet hours,
holdout draws, re-entry and consent per channel."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from services.journeys.domain import Category, Channel, Condition, OwnerFacts, holds
from services.journeys.domain.contact import channels_with_consent, quiet_until, render
from services.journeys.domain.definitions import JourneySpec, Reentry, validate_spec
from services.journeys.domain.runtime import in_holdout, reentry_allows
from shared.errors import InvalidInput


def spec(steps: list[dict], **extra) -> JourneySpec:
    return JourneySpec.model_validate(
        {"key": "unit", "name": "u", "category": "service", "trigger": {"type": "audience"},
         "steps": steps} | extra
    )  # fmt: skip


def fields_of(error: InvalidInput) -> list[str]:
    return [e.field for e in error.errors]


def test_a_cycle_through_a_branch_alone_is_refused_and_named():
    looping = spec([
        {"id": "a", "type": "tag", "tag": "x", "next": "b"},
        {"id": "b", "type": "branch", "cases": [{"when": {"tag": "y"}, "next": "a"}],
         "next": "c"},
        {"id": "c", "type": "exit"},
    ])  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        validate_spec(looping)
    assert fields_of(refused.value) == ["body.steps.0", "body.steps.1"]


def test_the_same_cycle_with_a_wait_is_valid():
    waiting = spec([
        {"id": "a", "type": "tag", "tag": "x", "next": "w"},
        {"id": "w", "type": "wait", "hours": 1, "next": "b"},
        {"id": "b", "type": "branch", "cases": [{"when": {"tag": "y"}, "next": "a"}]},
    ])  # fmt: skip
    validate_spec(waiting)


def test_unreachable_and_dangling_steps_are_named():
    with pytest.raises(InvalidInput) as refused:
        validate_spec(spec([{"id": "a", "type": "exit"}, {"id": "b", "type": "exit"}]))
    assert fields_of(refused.value) == ["body.steps.1"]
    with pytest.raises(InvalidInput) as refused:
        validate_spec(spec([{"id": "a", "type": "wait", "event": "telematics.dtc.raised",
                             "timeout_hours": 2, "timeout_next": "z"}]))  # fmt: skip
    assert fields_of(refused.value) == ["body.steps.0.timeout_next"]


def test_conditions_combine():
    facts = OwnerFacts(segments={"family_user"}, tags={"vip"}, language="zh",
                       consents={("marketing", "sms")}, context={"rate_ratio": 3.2})  # fmt: skip
    assert holds(Condition(segment="family_user", language="zh"), facts)
    assert not holds(Condition(segment="family_user", language="en"), facts)
    either = Condition.model_validate({"any": [{"tag": "new"}, {"tag": "vip"}]})
    assert holds(either, facts)
    assert holds(Condition.model_validate({"not": {"segment": "commuter"}}), facts)
    assert holds(Condition.model_validate({"consent": {"purpose": "marketing",
                                                       "channel": "sms"}}), facts)  # fmt: skip
    assert holds(Condition(field="rate_ratio", at_least=3), facts)
    assert not holds(Condition(field="rate_ratio", at_least=4), facts)


def test_quiet_hours_overnight_and_by_day():
    evening = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    assert quiet_until(evening, start=time(21), end=time(8)) == datetime(2026, 3, 4, 0, 0,
                                                                         tzinfo=UTC)  # fmt: skip
    early = datetime(2026, 3, 3, 22, 30, tzinfo=UTC)  # 06:30 the next day in Shanghai
    assert quiet_until(early, start=time(21), end=time(8)) == datetime(2026, 3, 4, 0, 0,
                                                                       tzinfo=UTC)  # fmt: skip
    noon = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    assert quiet_until(noon, start=time(21), end=time(8)) is None
    assert quiet_until(noon, start=time(12), end=time(14)) == datetime(2026, 3, 3, 6, 0,
                                                                       tzinfo=UTC)  # fmt: skip


def test_holdout_draws_are_stable_and_near_their_share():
    owners = [uuid.uuid4() for _ in range(4000)]
    held = [o for o in owners if in_holdout("ota", "run:1", o, 10)]
    assert 300 < len(held) < 500
    assert held == [o for o in owners if in_holdout("ota", "run:1", o, 10)]
    assert not any(in_holdout("ota", "run:1", o, 0) for o in owners)


def test_reentry_rules():
    now = datetime(2026, 3, 3, tzinfo=UTC)
    finished = ("completed", now - timedelta(hours=2))
    running = ("waiting", now - timedelta(hours=2))
    assert not reentry_allows(Reentry(mode="once"), finished, now)
    assert not reentry_allows(Reentry(mode="after_exit"), running, now)
    assert reentry_allows(Reentry(mode="after_exit"), finished, now)
    assert not reentry_allows(Reentry(mode="always", cooldown_hours=3), finished, now)
    assert reentry_allows(Reentry(mode="always"), running, now)
    assert reentry_allows(Reentry(mode="once"), None, now)


def test_consent_per_channel_by_category():
    facts = OwnerFacts(consents={("marketing", "email")},
                       withdrawn={("service_messages", "sms")})  # fmt: skip
    channels = [Channel.APP_PUSH, Channel.SMS, Channel.EMAIL]
    assert channels_with_consent(Category.MARKETING, channels, facts) == [Channel.EMAIL]
    assert channels_with_consent(Category.RECALL, channels, facts) == [
        Channel.APP_PUSH, Channel.EMAIL
    ]  # fmt: skip


def test_templates_leave_missing_facts_blank():
    assert render("{model} owner {missing}!", {"model": "ES6"}) == "ES6 owner !"
