"""Keeps owners' facts rows current and acts on their changes: the lifecycle stage and
segment memberships are re-evaluated (in memory, for just these owners) whenever a fact
changes, and each change is published. One owner or a DMS batch's thousand cost the same
dozen queries."""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import LifecycleStage, lifecycle_stage
from services.profile.models import BehaviourSnapshot, LifecycleEntry, OwnerFacts
from services.profile.repository.facts import FAMILY_DESTINATIONS, FactsRepository
from services.profile.service.memberships import evaluate_segments
from shared.contracts.profile import LifecycleStageChanged
from shared.database import before_commit, every_dealer
from shared.messaging.envelope import Envelope
from shared.messaging.outbox import record_envelopes

_OWNERS_TO_REFRESH = "profile_owners_to_refresh"


async def refresh_owner(session: AsyncSession, owner_id: uuid.UUID, *, now: datetime) -> None:
    await refresh_owners(session, [owner_id], now=now)


def refresh_before_commit(session: AsyncSession, owner_id: uuid.UUID, *, now: datetime) -> None:
    """`refresh_owner` for an event handler: the owners the events of a fetch (one
    transaction) touch are refreshed together, once, just before it commits."""
    session.info.setdefault(_OWNERS_TO_REFRESH, set()).add(owner_id)

    async def refresh(session: AsyncSession) -> None:
        await refresh_owners(session, session.info.pop(_OWNERS_TO_REFRESH), now=now)

    before_commit(session, _OWNERS_TO_REFRESH, refresh)


async def refresh_owners(
    session: AsyncSession, owner_ids: Iterable[uuid.UUID], *, now: datetime
) -> None:
    """Recomputes the owners' facts from what profile holds, then their lifecycle and
    segments. Owners profile does not know (yet) are skipped: their projections wait.
    Their records at every dealer count, whichever dealer's request set this off."""
    async with every_dealer(session):
        await _refresh_owners(session, owner_ids, now=now)


async def _refresh_owners(
    session: AsyncSession, owner_ids: Iterable[uuid.UUID], *, now: datetime
) -> None:
    repository = FactsRepository(session)
    owners = await repository.owners(set(owner_ids))
    if not owners:
        return
    ids = sorted(owners)
    await repository.ensure_many(ids)
    facts = await repository.lock_many(ids)
    await _derive(repository, facts)
    for row in facts.values():
        row.updated_at = now
    counts = await repository.lifecycle_counts(ids)
    await record_envelopes(
        session,
        [
            announcement
            for owner_id, row in facts.items()
            if (announcement := move_stage(session, row, *lifecycle_stage(**counts[owner_id]), now))
        ],
    )
    await evaluate_segments(session, [(owners[i], facts[i]) for i in ids if i in facts], now=now)


async def _derive(repository: FactsRepository, facts: dict[uuid.UUID, OwnerFacts]) -> None:
    ids = list(facts)
    scores = await repository.scores_of(ids)
    open_tickets = await repository.tickets_of(ids, open_only=True)
    behaviours = await repository.latest_behaviours(ids)
    service_due = await repository.earliest_service_dues(ids)
    tags = await repository.tags_of(ids)
    for owner_id, row in facts.items():
        answered = [score for score in scores[owner_id] if score.score is not None]
        latest = {score.kind: score.score for score in answered}
        row.latest_nps = latest.get("nps")
        row.latest_csat = latest.get("csat")
        row.detractor = bool(scores[owner_id]) and scores[owner_id][-1].band == "detractor"
        row.open_tickets = len(open_tickets[owner_id])
        row.open_complaints = sum(1 for t in open_tickets[owner_id] if t.kind == "complaint")
        _behaviour(row, behaviours.get(owner_id))
        row.service_due_date = service_due.get(owner_id)
        row.tags = tags[owner_id]


def _behaviour(facts: OwnerFacts, behaviour: BehaviourSnapshot | None) -> None:
    facts.assisted_driving_share = behaviour.assisted_driving_share if behaviour else None
    facts.new_apps_30d = len(behaviour.new_apps) if behaviour else None
    facts.harsh_events_per_100km = behaviour.harsh_events_per_100km if behaviour else None
    facts.distance_km_30d = behaviour.distance_km if behaviour else None
    facts.family_destination_share = (
        _family_share(behaviour.destination_categories) if behaviour else None
    )


def _family_share(destinations: dict[str, int]) -> float | None:
    total = sum(destinations.values())
    if not total:
        return None
    return sum(destinations.get(name, 0) for name in FAMILY_DESTINATIONS) / total


def move_stage(
    session: AsyncSession,
    facts: OwnerFacts,
    stage: LifecycleStage,
    because: str,
    now: datetime,
) -> Envelope | None:
    """Moves the owner to `stage` (with its history entry); the announcement to record, or
    None when the owner is there already."""
    if stage == facts.lifecycle_stage:
        return None
    previous = facts.lifecycle_stage
    facts.lifecycle_stage = stage
    session.add(
        LifecycleEntry(owner_id=facts.owner_id, stage=stage, because=because, changed_at=now)
    )
    return Envelope.wrap(
        LifecycleStageChanged(
            owner_id=facts.owner_id, previous_stage=previous, stage=stage, changed_at=now
        ),
        subject=str(facts.owner_id),
        owner_id=facts.owner_id,
    )


class LifecycleReplay:
    """Follows owners' lifecycle record by record through a batch (an order placed, a car
    delivered, a visit) from their counts, without a query per record: each stage they
    pass through is entered and announced, as if each record had come on its own."""

    def __init__(self, session: AsyncSession, *, now: datetime) -> None:
        self.session = session
        self.now = now
        self.facts: dict[uuid.UUID, OwnerFacts] = {}
        self.counts: dict[uuid.UUID, dict[str, int]] = {}

    async def load(self, owner_ids: Iterable[uuid.UUID]) -> None:
        """Reads the owners' counts; before any of their new records is added to the session
        (a query flushes them, and they would be counted twice)."""
        missing = sorted(set(owner_ids) - set(self.facts))
        if not missing:
            return
        repository = FactsRepository(self.session)
        await repository.ensure_many(missing)
        self.facts |= await repository.lock_many(missing)
        async with every_dealer(self.session):  # their records at every dealer count
            self.counts |= await repository.lifecycle_counts(missing)

    def count(self, owner_id: uuid.UUID, **changes: int) -> Envelope | None:
        """Adds to the owner's counts; the announcement of the stage they moved to, if any."""
        counts = self.counts[owner_id]
        for name, change in changes.items():
            counts[name] += change
        stage, because = lifecycle_stage(**counts)
        return move_stage(self.session, self.facts[owner_id], stage, because, self.now)
