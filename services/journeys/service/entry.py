"""Who enters a journey, and when: by an event, a segment, a date, a staff-started run or a
recall. One instance per owner per run (a unique key, so a redelivered trigger adds no one),
after the audience condition and the re-entry rules; a stable share is held out."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.domain import Condition, InstanceStatus, OwnerFacts, holds
from services.journeys.domain.contact import Reason
from services.journeys.domain.definitions import JourneySpec
from services.journeys.domain.runtime import in_holdout, reentry_allows
from services.journeys.errors import JourneyNotFound, NotStartable
from services.journeys.models import Decision, JourneyDefinition
from services.journeys.repository import JourneysRepository
from services.journeys.service.configuration import contact_policy
from services.journeys.service.definitions import spec_of


@dataclass(frozen=True)
class Entrant:
    owner_id: uuid.UUID
    context: dict[str, Any] = field(default_factory=dict)
    # A run of its own (a recall runs per vehicle); otherwise the run being entered.
    run_key: str | None = None


@dataclass
class EntryReport:
    run_key: str
    entered: int = 0
    held_out: int = 0


async def eligible(
    repository: JourneysRepository, spec: JourneySpec, entrants: list[Entrant], now: datetime,
    *, segments_checked: bool = False,
) -> list[Entrant]:  # fmt: skip
    """Entrants in the audience whom the re-entry rules let in (one per owner);
    `segments_checked` says the entrants were found by the audience's segments."""
    unique = list({(e.owner_id, e.run_key): e for e in reversed(entrants)}.values())[::-1]
    owner_ids = [e.owner_id for e in unique]
    erased = await repository.erased(owner_ids)
    needed = _needs_facts(spec.audience, segments_checked)
    facts = await repository.owner_facts(owner_ids) if needed else {}
    latest = await repository.latest_entries(spec.key, owner_ids)
    chosen = []
    for entrant in unique:
        if entrant.owner_id in erased:
            continue
        owner = facts.get(entrant.owner_id, OwnerFacts())
        owner.context = entrant.context
        if (not needed or holds(spec.audience, owner)) and reentry_allows(
            spec.reentry, latest.get(entrant.owner_id), now
        ):
            chosen.append(entrant)
    return chosen


def _needs_facts(audience: Condition, segments_checked: bool) -> bool:
    """An audience of segments only was already met by the query that found the owners."""
    return not (audience.only_segments() and (segments_checked or not audience.segments()))


async def enter(
    session: AsyncSession,
    definition: JourneyDefinition,
    entrants: list[Entrant],
    *,
    run_key: str,
    now: datetime,
    segments_checked: bool = False,
) -> EntryReport:
    repository = JourneysRepository(session)
    spec = spec_of(definition)
    report = EntryReport(run_key)
    rows = []
    chosen = await eligible(repository, spec, entrants, now, segments_checked=segments_checked)
    for entrant in chosen:
        entrant_run = entrant.run_key or run_key
        held_out = in_holdout(spec.key, entrant_run, entrant.owner_id, spec.holdout_percent)
        rows.append(
            {"id": uuid.uuid4(), "definition_id": definition.id, "journey_key": spec.key,
             "version": definition.version, "owner_id": entrant.owner_id, "run_key": entrant_run,
             "status": InstanceStatus.HELD_OUT if held_out else InstanceStatus.ACTIVE,
             "priority": spec.category.priority, "step_id": None if held_out else spec.entry_step,
             "visits": 0, "due_at": None if held_out else now, "context": entrant.context,
             "holdout": held_out, "entered_at": now, "finished_at": None, "converted_at": None}
        )  # fmt: skip
    inserted = set(await repository.insert_instances(rows))
    held = [row for row in rows if row["holdout"] and row["id"] in inserted]
    await repository.insert_many(Decision, [
        {"owner_id": row["owner_id"], "journey_key": spec.key, "instance_id": row["id"],
         "step_id": spec.entry_step, "outcome": "suppressed", "reason": Reason.HOLDOUT,
         "detail": f"held out ({spec.holdout_percent}% of the audience)", "at": now}
        for row in held
    ])  # fmt: skip
    report.held_out = len(held)
    report.entered = len(inserted) - len(held)
    return report


async def on_trigger(
    session: AsyncSession, event: str, entrants: list[Entrant], *, event_id: uuid.UUID,
    now: datetime,
) -> None:  # fmt: skip
    """Enters the owners an event concerns into every active journey it triggers."""
    for definition in await JourneysRepository(session).active_triggered_by(event):
        trigger = spec_of(definition).trigger
        if trigger.type == "segment_entered":
            matching = [e for e in entrants if e.context.get("segment_key") == trigger.segment
                        and e.context.get("entered")]  # fmt: skip
        else:
            matching = [e for e in entrants if holds(trigger.filter, OwnerFacts(context=e.context))]
        if matching:
            await enter(session, definition, matching, run_key=f"event:{event_id}", now=now)


async def start_run(
    session: AsyncSession, *, key: str, context: dict[str, Any], now: datetime
) -> EntryReport:
    """A one-off run over the journey's whole audience (an OTA release)."""
    repository = JourneysRepository(session)
    definition = await _startable(repository, key, "audience")
    spec = spec_of(definition)
    candidates = await repository.audience_candidates(spec.audience.segments())
    entrants = [Entrant(owner_id, context) for owner_id in candidates]
    return await enter(session, definition, entrants, run_key=f"run:{uuid.uuid4()}", now=now,
                       segments_checked=True)  # fmt: skip


async def _startable(
    repository: JourneysRepository, key: str, trigger_type: str
) -> JourneyDefinition:
    definition = await repository.active(key)
    if definition is None:
        if await repository.definition(key) is None:
            raise JourneyNotFound(f"no journey {key!r}")
        raise NotStartable(f"journey {key!r} has no active version")
    if definition.trigger_type != trigger_type:
        raise NotStartable(
            f"journey {key!r} starts on its {definition.trigger_type} trigger, not by a run"
        )
    return definition


async def preview(
    session: AsyncSession, definition: JourneyDefinition, *, sample: int, now: datetime
) -> tuple[int, int, list[uuid.UUID]]:
    """A dry run: (would enter now, of them held out, a sample) without writing anything."""
    repository = JourneysRepository(session)
    spec = spec_of(definition)
    if spec.trigger.type == "date":
        today = _local_day(now, await _policy_zone(session))
        pairs = await repository.anniversaries(today, spec.trigger.years)
        entrants = [Entrant(owner_id) for owner_id, _ in pairs]
        checked = False
    else:
        candidates = await repository.audience_candidates(spec.audience.segments())
        entrants = [Entrant(owner_id) for owner_id in candidates]
        checked = True
    chosen = await eligible(repository, spec, entrants, now, segments_checked=checked)
    held = sum(in_holdout(spec.key, "preview", e.owner_id, spec.holdout_percent) for e in chosen)
    return len(chosen), held, [e.owner_id for e in chosen[:sample]]


async def schedule_dates(session: AsyncSession, *, now: datetime) -> int:
    """Enters owners whose purchase anniversary is today (each day once, even if a day was
    missed while no worker ran). Definitions are claimed, so replicas share the work."""
    repository = JourneysRepository(session)
    zone = await _policy_zone(session)
    today = _local_day(now, zone)
    entered = 0
    for definition in await repository.active_of_trigger_type("date", claim=True):
        spec = spec_of(definition)
        day = (definition.scheduled_through or today - timedelta(days=1)) + timedelta(days=1)
        while day <= today:
            pairs = await repository.anniversaries(day, spec.trigger.years)
            entrants = [Entrant(owner_id, _vehicle_context(vehicle)) for owner_id, vehicle in pairs]
            report = await enter(session, definition, entrants, run_key=f"date:{day}", now=now)
            entered += report.entered
            day += timedelta(days=1)
        definition.scheduled_through = today
    await session.flush()
    return entered


def _vehicle_context(vehicle) -> dict[str, Any]:
    return {
        "vehicle_id": str(vehicle.id),
        "vin": vehicle.vin,
        "model": vehicle.model,
        "dealer_id": str(vehicle.servicing_dealer_id) if vehicle.servicing_dealer_id else None,
    }


async def _policy_zone(session: AsyncSession) -> str:
    return (await contact_policy(session)).timezone


def _local_day(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()
