"""Segment membership, the in-memory path: owners' conditions evaluated on their snapshots
(the facts row, tags and recent events), and each entry or exit stored and published. The
SQL path (service/segments.py) recomputes a whole segment; both apply changes here."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
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
from services.profile.models import Owner, OwnerFacts, Segment
from services.profile.repository.segments import SegmentRepository
from services.profile.service.loyalty import recognise_super_user
from shared.contracts.profile import SegmentMembershipChanged
from shared.messaging.envelope import Envelope
from shared.messaging.outbox import record_envelopes

SUPER_USER_SEGMENT = "super_user"


@dataclass(frozen=True)
class MembershipChange:
    """What a condition now says of one owner in one segment, and what was stored before
    (None: not a member)."""

    segment: Segment
    owner_id: uuid.UUID
    member: bool
    reasons: list[str]
    stored_reasons: list[str] | None

    @property
    def was(self) -> bool:
        return self.stored_reasons is not None


async def snapshots_of(
    session: AsyncSession, owner_ids: Sequence[uuid.UUID], *, now: datetime, window_days: int
) -> dict[uuid.UUID, tuple[Owner, OwnerSnapshot]]:
    """What each owner's conditions look at, loaded in two queries for any number of owners."""
    owners = await SegmentRepository(session).owners_with_facts(owner_ids)
    return await _snapshots(session, owners, now=now, window_days=window_days)


async def _snapshots(
    session: AsyncSession,
    owners: Sequence[tuple[Owner, OwnerFacts]],
    *,
    now: datetime,
    window_days: int,
) -> dict[uuid.UUID, tuple[Owner, OwnerSnapshot]]:
    """The snapshots of owners whose facts are at hand: their recent events in one query."""
    events: dict[uuid.UUID, list[PastEventFact]] = defaultdict(list)
    if window_days:
        since = now - timedelta(days=window_days)
        ids = [owner.id for owner, _ in owners]
        for event in await SegmentRepository(session).events_of_owners(ids, since):
            events[event.owner_id].append(
                PastEventFact(event.type, event.occurred_at, event.properties)
            )
    return {
        owner.id: (owner, _snapshot(owner, facts, tuple(events[owner.id]), now))
        for owner, facts in owners
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


async def evaluate_segments(
    session: AsyncSession, owners: Sequence[tuple[Owner, OwnerFacts]], *, now: datetime
) -> None:
    """Enters or leaves each segment as the conditions now say, for every owner given (with
    their current facts), in a fixed number of queries; each change is published."""
    repository = SegmentRepository(session)
    segments = await repository.segments()
    parsed = [(segment, parse_condition(segment.condition)) for segment in segments]
    if not parsed or not owners:
        return
    window = max(max_window_days(condition) for _, condition in parsed)
    await session.flush()
    snapshots = await _snapshots(session, owners, now=now, window_days=window)
    stored = await repository.memberships_of_owners([owner.id for owner, _ in owners])
    changes = []
    for owner, _ in owners:
        _, snapshot = snapshots[owner.id]
        for segment, condition in parsed:
            member = is_eligible(owner) and evaluate(condition, snapshot)
            membership = stored[owner.id].get(segment.key)
            changes.append(
                MembershipChange(
                    segment=segment,
                    owner_id=owner.id,
                    member=member,
                    reasons=reasons(condition, snapshot) if member else [],
                    stored_reasons=membership.reasons if membership else None,
                )
            )
    await apply_memberships(session, changes, now=now)


async def apply_memberships(
    session: AsyncSession, changes: Sequence[MembershipChange], *, now: datetime
) -> None:
    """Stores what changed (entries, exits, new reasons) in a statement or two, publishes
    each entry and exit, and recognises new super users."""
    repository = SegmentRepository(session)
    await repository.enter_many(
        [
            (change.segment.key, change.owner_id, change.reasons)
            for change in changes
            if change.member and change.reasons != change.stored_reasons
        ],
        now,
    )
    leaving: dict[str, list[uuid.UUID]] = defaultdict(list)
    for change in changes:
        if change.was and not change.member:
            leaving[change.segment.key].append(change.owner_id)
    for key, owner_ids in leaving.items():
        await repository.leave(key, owner_ids)
    moved = [change for change in changes if change.member != change.was]
    await record_envelopes(session, [_announcement(change, now) for change in moved])
    for change in moved:
        if change.member and change.segment.key == SUPER_USER_SEGMENT:
            await recognise_super_user(session, change.owner_id, now=now)


def _announcement(change: MembershipChange, now: datetime) -> Envelope:
    return Envelope.wrap(
        SegmentMembershipChanged(
            owner_id=change.owner_id,
            segment_key=change.segment.key,
            entered=change.member,
            reasons=change.reasons,
            changed_at=now,
        ),
        subject=str(change.owner_id),
        owner_id=change.owner_id,
    )
