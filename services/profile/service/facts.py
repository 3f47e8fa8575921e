"""Keeps each owner's facts row current and acts on its changes: the lifecycle stage and
segment memberships are re-evaluated (in memory, for this one owner) whenever a fact changes,
and each change is published."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.conditions import (
    OwnerSnapshot,
    PastEventFact,
    attribute_values,
    evaluate,
    max_window_days,
    parse_condition,
    reasons,
)
from services.profile.domain import lifecycle_stage
from services.profile.models import LifecycleEntry, Owner, OwnerFacts, Segment
from services.profile.repository.facts import FAMILY_DESTINATIONS, FactsRepository
from services.profile.repository.segments import SegmentRepository
from services.profile.service.loyalty import recognise_super_user
from shared.contracts.profile import LifecycleStageChanged, SegmentMembershipChanged
from shared.messaging.outbox import record_event

SUPER_USER_SEGMENT = "super_user"


async def refresh_owner(session: AsyncSession, owner_id: uuid.UUID, *, now: datetime) -> None:
    """Recomputes the owner's facts from what profile holds, then its lifecycle and segments.
    Owners profile does not know (yet) are skipped: their projections wait for them."""
    facts_repository = FactsRepository(session)
    owner = await session.get(Owner, owner_id)
    if owner is None:
        return
    await facts_repository.ensure(owner_id)
    facts = await facts_repository.for_update(owner_id)
    assert facts is not None
    await _derive(facts_repository, facts)
    facts.updated_at = now
    await _update_lifecycle(session, facts, now=now)
    await evaluate_segments(session, owner, now=now)


async def _derive(repository: FactsRepository, facts: OwnerFacts) -> None:
    owner_id = facts.owner_id
    scores = await repository.scores(owner_id)
    latest = {score.kind: score for score in scores if score.score is not None}
    facts.latest_nps = latest["nps"].score if "nps" in latest else None
    facts.latest_csat = latest["csat"].score if "csat" in latest else None
    facts.detractor = bool(scores) and scores[-1].band == "detractor"
    open_tickets = await repository.tickets(owner_id, open_only=True)
    facts.open_tickets = len(open_tickets)
    facts.open_complaints = sum(1 for ticket in open_tickets if ticket.kind == "complaint")
    behaviour = await repository.latest_behaviour(owner_id)
    facts.assisted_driving_share = behaviour.assisted_driving_share if behaviour else None
    facts.new_apps_30d = len(behaviour.new_apps) if behaviour else None
    facts.harsh_events_per_100km = behaviour.harsh_events_per_100km if behaviour else None
    facts.distance_km_30d = behaviour.distance_km if behaviour else None
    facts.family_destination_share = (
        _family_share(behaviour.destination_categories) if behaviour else None
    )
    facts.service_due_date = await repository.earliest_service_due(owner_id)
    facts.tags = await repository.tags(owner_id)


def _family_share(destinations: dict[str, int]) -> float | None:
    total = sum(destinations.values())
    if not total:
        return None
    return sum(destinations.get(name, 0) for name in FAMILY_DESTINATIONS) / total


async def _update_lifecycle(session: AsyncSession, facts: OwnerFacts, *, now: datetime) -> None:
    counts = await FactsRepository(session).lifecycle_counts(facts.owner_id)
    stage, because = lifecycle_stage(**counts)
    if stage == facts.lifecycle_stage:
        return
    previous = facts.lifecycle_stage
    facts.lifecycle_stage = stage
    session.add(
        LifecycleEntry(owner_id=facts.owner_id, stage=stage, because=because, changed_at=now)
    )
    await record_event(
        session,
        LifecycleStageChanged(
            owner_id=facts.owner_id, previous_stage=previous, stage=stage, changed_at=now
        ),
        subject=facts.owner_id,
        owner_id=facts.owner_id,
    )


async def snapshots_of(
    session: AsyncSession, owner_ids: Sequence[uuid.UUID], *, now: datetime, window_days: int
) -> dict[uuid.UUID, tuple[Owner, OwnerSnapshot]]:
    """What each owner's conditions look at, loaded in two queries for any number of owners."""
    repository = SegmentRepository(session)
    events: dict[uuid.UUID, list[PastEventFact]] = defaultdict(list)
    if window_days:
        since = now - timedelta(days=window_days)
        for event in await repository.events_of_owners(owner_ids, since):
            events[event.owner_id].append(
                PastEventFact(event.type, event.occurred_at, event.properties)
            )
    return {
        owner.id: (owner, _snapshot(owner, facts, tuple(events[owner.id]), now))
        for owner, facts in await repository.owners_with_facts(owner_ids)
    }


def _snapshot(
    owner: Owner, facts: OwnerFacts, events: tuple[PastEventFact, ...], now: datetime
) -> OwnerSnapshot:
    return OwnerSnapshot(
        attributes=attribute_values(
            facts.model_dump(),
            city=owner.city,
            language=owner.preferred_language,
            today=now.date(),
        ),
        tags=frozenset(facts.tags),
        events=events,
        now=now,
    )


def is_eligible(owner: Owner) -> bool:
    """Merged duplicates and erased owners belong to no segment (on both paths)."""
    return owner.merged_into is None and owner.erased_at is None


async def evaluate_segments(session: AsyncSession, owner: Owner, *, now: datetime) -> None:
    """Enters or leaves each segment as the conditions now say, publishing each change."""
    repository = SegmentRepository(session)
    segments = await repository.segments()
    parsed = [(segment, parse_condition(segment.condition)) for segment in segments]
    window = max((max_window_days(condition) for _, condition in parsed), default=0)
    await session.flush()
    _, snapshot = (await snapshots_of(session, [owner.id], now=now, window_days=window))[owner.id]
    current = await repository.memberships_of(owner.id)
    for segment, condition in parsed:
        member = is_eligible(owner) and evaluate(condition, snapshot)
        why = reasons(condition, snapshot) if member else []
        await apply_membership(
            session,
            segment,
            owner.id,
            member=member,
            reasons=why,
            was=segment.key in current,
            now=now,
        )


async def apply_membership(
    session: AsyncSession,
    segment: Segment,
    owner_id: uuid.UUID,
    *,
    member: bool,
    reasons: list[str],
    was: bool,
    now: datetime,
) -> None:
    repository = SegmentRepository(session)
    if member:
        await repository.enter(segment.key, owner_id, reasons, now)
    elif was:
        await repository.leave(segment.key, [owner_id])
    if member == was:
        return
    await record_event(
        session,
        SegmentMembershipChanged(
            owner_id=owner_id,
            segment_key=segment.key,
            entered=member,
            reasons=reasons,
            changed_at=now,
        ),
        subject=owner_id,
        owner_id=owner_id,
    )
    if member and segment.key == SUPER_USER_SEGMENT:
        await recognise_super_user(session, owner_id, now=now)
