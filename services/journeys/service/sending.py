"""The message step and its guard rails, for a batch of instances at one step.

Per owner: consent per channel (marketing needs it; service and recall notices go unless
withdrawn), caps per owner, vehicle and household (checked in priority order, safety and
recall first, so marketing is what a full cap drops), quiet hours (deferred, never dropped;
safety is exempt). Every outcome is written to the decision log. The inbox always receives a
message that is sent at all; the vehicle-in-motion rule is the delivery worker's, at the
moment a push would go out.
"""

import uuid
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from services.journeys.domain import Category, Channel, OwnerFacts
from services.journeys.domain.contact import (
    ContactPolicy,
    Reason,
    cap_reason,
    channels_with_consent,
    choose_language,
    quiet_until,
    render,
    rule_applies,
)
from services.journeys.domain.definitions import MessageStep
from services.journeys.domain.runtime import step_request_id
from services.journeys.repository import Running
from services.journeys.service.engine import Pass
from shared.contracts.journeys import MessageSent

INBOX = "app_inbox"


class CapCounter:
    """Deliveries in the caps' windows, counted per owner, vehicle and household; the ones
    this pass queues are added as it goes, so one batch cannot overrun a cap either."""

    def __init__(self, policy: ContactPolicy, now: datetime, recent) -> None:
        self.policy = policy
        self.now = now
        self.seen: dict[tuple[str, Any], list[tuple[str, str, datetime]]] = defaultdict(list)
        for row in recent:
            self.add(row.owner_id, row.vehicle_id, row.household_id, row.channel, row.category,
                     row.created_at)  # fmt: skip

    def add(self, owner, vehicle, household, channel: str, category: str, at: datetime) -> None:
        for scope, key in (("owner", owner), ("vehicle", vehicle), ("household", household)):
            if key is not None:
                self.seen[(scope, key)].append((channel, category, at))

    def blocking(self, category: Category, channel: str, keys: dict[str, Any]) -> str | None:
        """The scope of the first cap this delivery would break, or None."""
        for rule in self.policy.caps:
            key = keys.get(rule.scope)
            if key is None or not rule_applies(rule, category, channel):
                continue
            since = self.now - timedelta(hours=rule.period_hours)
            used = sum(
                1
                for seen_channel, seen_category, at in self.seen[(rule.scope, key)]
                if at >= since
                and seen_category in rule.categories
                and rule.channel in ("any", seen_channel)
            )
            if used >= rule.limit:
                return rule.scope
        return None


async def send_messages(run: Pass, spec, step: MessageStep, instances: list[Running]) -> None:
    category = Category(step.category or spec.category)
    template = await run.template(step.template)
    policy = await run.policy()
    owner_ids = list({i.owner_id for i in instances})
    facts = await run.repository.consents(owner_ids)
    contacts = await run.repository.contacts(owner_ids)
    for owner_id, contact in contacts.items():
        facts[owner_id].language = contact.language
    households = [c.household_id for c in contacts.values() if c.household_id]
    longest = max((rule.period_hours for rule in policy.caps), default=0)
    recent = await run.repository.recent_deliveries(
        owner_ids, households, run.now - timedelta(hours=longest)
    )
    caps = CapCounter(policy, run.now, recent)
    for earlier in run.deliveries:  # queued by an earlier step of this pass, not yet written
        if earlier["channel"] != "webhook":
            caps.add(earlier["owner_id"], earlier["vehicle_id"], earlier["household_id"],
                     earlier["channel"], earlier["category"], earlier["created_at"])  # fmt: skip
    rendered: dict = {}
    for instance in instances:
        _send_one(run, step, category, Content(template, rendered), policy, caps, instance,
                  facts[instance.owner_id], contacts.get(instance.owner_id))  # fmt: skip
        run.go(instance, step.next)


class Content:
    """A template rendered once per language and context: a run's owners mostly share both."""

    def __init__(self, template: dict, cache: dict) -> None:
        self.template = template
        self.cache = cache

    def render(self, language: str, context: dict) -> dict:
        key = (language, tuple(sorted((k, str(v)) for k, v in context.items())))
        if key not in self.cache:
            values = {**context, "language": language}
            variant = self.template["variants"][language]
            link = self.template.get("link")
            self.cache[key] = {
                "title": render(variant["title"], values)[:200],
                "body": render(variant["body"], values)[:4000],
                "link": render(link, values) if link else None,
            }
        return self.cache[key]


def _send_one(
    run: Pass, step: MessageStep, category: Category, template: "Content", policy: ContactPolicy,
    caps: CapCounter, instance: Running, facts: OwnerFacts, contact,
) -> None:  # fmt: skip
    consented = channels_with_consent(category, step.channels, facts)
    for channel in step.channels:
        if channel not in consented:
            detail = f"no {category.consent_purpose} consent"
            run.decide(instance, step.id, outcome="suppressed", reason=Reason.CONSENT,
                       channel=channel, detail=detail)  # fmt: skip
    vehicle_id = _uuid(instance.context.get("vehicle_id"))
    household = contact.household_id if contact and contact.household_id else instance.owner_id
    keys = {"owner": instance.owner_id, "vehicle": vehicle_id, "household": household}
    allowed: list[Channel] = []
    for channel in consented:
        scope = caps.blocking(category, channel, keys)
        if scope is None:
            allowed.append(channel)
            caps.add(instance.owner_id, vehicle_id, household, channel, category, run.now)
        else:
            run.decide(instance, step.id, outcome="suppressed", reason=cap_reason(scope),
                       channel=channel, detail=f"{scope} cap for {category} reached")  # fmt: skip
    if category is Category.MARKETING and not allowed:
        return  # nothing may reach the owner, not even the inbox
    message_id = step_request_id(instance.id, step.id, instance.visits)
    language = choose_language(template.template["variants"], facts.language)
    content = template.render(language, instance.context)
    run.messages.append(
        {"id": message_id, "owner_id": instance.owner_id, "instance_id": instance.id,
         "journey_key": instance.journey_key, "step_id": step.id, "vehicle_id": vehicle_id,
         "template_key": step.template, "category": category.value, "language": language,
         "created_at": run.now, **content}
    )  # fmt: skip
    run.publish(
        MessageSent(message_id=message_id, owner_id=instance.owner_id,
                    journey_key=instance.journey_key, channel=INBOX, category=category,
                    template_key=step.template, sent_at=run.now, vehicle_id=vehicle_id),
        instance.owner_id, message_id,
    )  # fmt: skip
    quiet = None if category is Category.SAFETY else _quiet_end(run.now, policy, contact)
    for channel in allowed:
        run.deliveries.append(
            {"id": uuid.uuid5(message_id, channel), "message_id": message_id,
             "owner_id": instance.owner_id, "vehicle_id": vehicle_id, "household_id": household,
             "channel": channel.value, "category": category.value, "priority": category.priority,
             "status": "queued", "attempts": 0, "not_before": quiet or run.now,
             "created_at": run.now,
             "payload": {**content, "language": language, "template_key": step.template,
                         "journey_key": instance.journey_key, "step_id": step.id,
                         "instance_id": str(instance.id)}}
        )  # fmt: skip
        if quiet:
            run.decide(instance, step.id, outcome="deferred", reason=Reason.QUIET_HOURS,
                       channel=channel, detail=f"until {quiet.isoformat()}")  # fmt: skip
        else:
            run.decide(instance, step.id, outcome="sent", reason=Reason.SENT, channel=channel)


def _quiet_end(now: datetime, policy: ContactPolicy, contact) -> datetime | None:
    start, end, zone = policy.quiet_start, policy.quiet_end, policy.timezone
    if contact is not None:
        start = time.fromisoformat(contact.quiet_start) if contact.quiet_start else start
        end = time.fromisoformat(contact.quiet_end) if contact.quiet_end else end
        zone = contact.timezone or zone
    return quiet_until(now, start=start, end=end, timezone=zone)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
