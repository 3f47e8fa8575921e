"""Contact governance: templates in each language, consent per channel, quiet hours, caps
per owner, vehicle and household, and the reasons the decision log gives."""

import string
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from services.journeys.domain import Category, Channel, OwnerFacts, Strict

# Templates


class TemplateVariant(Strict):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)


def placeholders(text: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name]
    except ValueError as error:
        raise ValueError(f"malformed placeholder: {error}") from error


def render(text: str, values: dict[str, Any]) -> str:
    """Fills `{name}` placeholders; a fact the owner does not have renders as empty."""
    return string.Formatter().vformat(text, (), _Blank(values))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def choose_language(available: Iterable[str], preferred: str) -> str:
    available = list(available)
    if preferred in available:
        return preferred
    return "en" if "en" in available else available[0]


# Guard rails


class CapRule(Strict):
    """At most `limit` messages of these categories per scope and channel in the period."""

    scope: Literal["owner", "vehicle", "household"]
    channel: Channel | Literal["any"] = "any"
    categories: list[Category] = [Category.MARKETING]
    period_hours: int = Field(ge=1, le=24 * 366)
    limit: int = Field(ge=0, le=1000)


class ContactPolicy(Strict):
    """Configuration as data: the caps, and the quiet hours owners get unless they set theirs."""

    caps: list[CapRule] = [
        CapRule(scope="owner", channel="any", period_hours=24 * 7, limit=3),
        CapRule(scope="household", channel="any", period_hours=24 * 7, limit=5),
        CapRule(scope="vehicle", channel="any", period_hours=24, limit=2),
        CapRule(
            scope="owner",
            channel="any",
            categories=[Category.SERVICE],
            period_hours=24,
            limit=3,
        ),
    ]
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    timezone: str = "Asia/Shanghai"


def quiet_until(
    now: datetime, *, start: time, end: time, timezone: str = "Asia/Shanghai"
) -> datetime | None:
    """The end of the quiet hours `now` falls in (UTC), or None outside them."""
    if start == end:
        return None
    local = now.astimezone(ZoneInfo(timezone))
    clock = local.time().replace(tzinfo=None)
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if overnight and clock >= start else local.date()
    ends = datetime.combine(end_day, end, tzinfo=local.tzinfo)
    return ends.astimezone(UTC)


class Reason(StrEnum):
    """Why a step did what it did, in the decision log."""

    SENT = "sent"
    CONSENT = "consent"
    CAP_OWNER = "cap_owner"
    CAP_VEHICLE = "cap_vehicle"
    CAP_HOUSEHOLD = "cap_household"
    QUIET_HOURS = "quiet_hours"
    MOVING = "moving_vehicle"
    HOLDOUT = "holdout"
    ERASED = "erased"


def channels_with_consent(
    category: Category, channels: Iterable[Channel], facts: OwnerFacts
) -> list[Channel]:
    """Marketing needs the channel's marketing consent; service, recall and safety notices are
    sent unless the owner withdrew service messages on that channel."""
    if category is Category.MARKETING:
        return [c for c in channels if ("marketing", c.value) in facts.consents]
    return [c for c in channels if ("service_messages", c.value) not in facts.withdrawn]


def rule_applies(rule: CapRule, category: Category, channel: str) -> bool:
    return category in rule.categories and rule.channel in ("any", channel)


def cap_reason(scope: str) -> Reason:
    return {"owner": Reason.CAP_OWNER, "vehicle": Reason.CAP_VEHICLE}.get(
        scope, Reason.CAP_HOUSEHOLD
    )
