"""Segments as data: definitions validated on save, previewed before saving, recomputed in
full on the SQL path (on save, on demand and on a durable timer) and per owner in memory
whenever one of its facts changes (service/facts.py). Both paths read one definition."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.catalogue import EVENT_TYPES
from services.profile.conditions import (
    ATTRIBUTES,
    OPERATORS_BY_TYPE,
    Condition,
    condition_json,
    describe,
    max_window_days,
    parse_condition,
    reasons,
    semantic_problems,
)
from services.profile.errors import DuplicateSegmentKey, SegmentNotFound
from services.profile.models import Segment
from services.profile.repository.segments import SegmentRepository
from services.profile.schemas.segments import (
    AttributeRead,
    MembershipRead,
    RecomputeResult,
    SampleOwner,
    SegmentCreate,
    SegmentPreview,
    SegmentPreviewRequest,
    SegmentRead,
    SegmentUpdate,
)
from services.profile.service.memberships import MembershipChange, apply_memberships, snapshots_of
from services.profile.service.owners import visible_owner
from shared.auth import Caller, StaffRole
from shared.errors import FieldError, InvalidInput
from shared.pagination import PageParams

# Time alone moves owners in and out (windows slide, due dates come closer).
RECOMPUTE_EVERY = timedelta(hours=1)
_CHUNK = 1000
# Deep enough for any real audience, shallow enough that no tree can exhaust the stack.
MAX_DEPTH = 40
_UNION_TAGS = {"and", "or", "not", "compare", "in", "has_tag", "event"}


def attributes() -> list[AttributeRead]:
    return [
        AttributeRead(
            name=name,
            type=attribute.type,
            operators=sorted(OPERATORS_BY_TYPE[attribute.type]),
            description=attribute.description,
        )
        for name, attribute in sorted(ATTRIBUTES.items())
    ]


def validated_condition(data: dict, *, field: str = "body.condition") -> Condition:
    """The tree, or a 422 that names each offending node by its path in the body."""
    if _depth(data) > MAX_DEPTH:
        raise InvalidInput.for_field(field, f"nests deeper than {MAX_DEPTH} levels")
    try:
        condition = parse_condition(data)
    except ValidationError as error:
        errors = [
            FieldError(field=_path(field, item["loc"]), message=item["msg"])
            for item in error.errors()
        ]
        raise _invalid(errors) from None
    problems = _semantic(condition, field)
    if problems:
        raise _invalid(problems)
    return condition


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _semantic(condition: Condition, field: str) -> list[FieldError]:
    return [
        FieldError(field=path, message=message)
        for path, message in semantic_problems(condition, frozenset(EVENT_TYPES), path=field)
    ]


def _path(field: str, loc: tuple) -> str:
    # Pydantic names the union member it tried ("compare"); the caller's body does not.
    parts = [str(part) for part in loc if part not in _UNION_TAGS]
    return ".".join([field, *parts])


def _invalid(errors: list[FieldError]) -> InvalidInput:
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _require_marketing(caller: Caller) -> None:
    caller.require_staff(StaffRole.MARKETING)


async def create_segment(
    session: AsyncSession, *, caller: Caller, data: SegmentCreate, now: datetime
) -> SegmentRead:
    _require_marketing(caller)
    condition = validated_condition(data.condition)
    repository = SegmentRepository(session)
    if await repository.segment(data.key):
        raise DuplicateSegmentKey(f"Segment {data.key!r} already exists")
    segment = Segment(
        key=data.key,
        name=data.name,
        description=data.description,
        condition=condition_json(condition),
        created_at=now,
        updated_at=now,
        recompute_at=now + RECOMPUTE_EVERY,
    )
    session.add(segment)
    await session.flush()
    await recompute_segment(session, segment, now=now)
    return await _read(session, caller, segment)


async def update_segment(
    session: AsyncSession, *, caller: Caller, key: str, data: SegmentUpdate, now: datetime
) -> SegmentRead:
    _require_marketing(caller)
    condition = validated_condition(data.condition)
    segment = await _segment(session, key, for_update=True)
    segment.name = data.name
    segment.description = data.description
    segment.condition = condition_json(condition)
    segment.version += 1
    segment.updated_at = now
    await recompute_segment(session, segment, now=now)
    return await _read(session, caller, segment)


async def preview(
    session: AsyncSession, *, caller: Caller, data: SegmentPreviewRequest, now: datetime
) -> SegmentPreview:
    """How many owners the caller can see would match, and a sample with the reasons."""
    _require_marketing(caller)
    condition = validated_condition(data.condition)
    repository = SegmentRepository(session)
    count = await repository.count_matching(condition, caller=caller, now=now)
    sample = await repository.sample_matching(
        condition, caller=caller, now=now, limit=data.sample_size
    )
    snapshots = await snapshots_of(session, sample, now=now, window_days=max_window_days(condition))
    return SegmentPreview(
        count=count,
        sample=[
            SampleOwner(owner_id=owner_id, reasons=reasons(condition, snapshots[owner_id][1]))
            for owner_id in sample
        ],
    )


async def recompute(
    session: AsyncSession, *, caller: Caller, key: str, now: datetime
) -> RecomputeResult:
    _require_marketing(caller)
    segment = await _segment(session, key, for_update=True)
    return await recompute_segment(session, segment, now=now)


async def recompute_segment(
    session: AsyncSession, segment: Segment, *, now: datetime
) -> RecomputeResult:
    """The SQL path: everyone who matches now; those who entered or left are announced,
    with reasons worked out in memory for the ones who entered."""
    condition = parse_condition(segment.condition)
    repository = SegmentRepository(session)
    matching = await repository.all_matching(condition, now=now)
    current = await repository.members(segment.key)
    entering = sorted(matching - current)
    window = max_window_days(condition)
    for start in range(0, len(entering), _CHUNK):
        chunk = entering[start : start + _CHUNK]
        snapshots = await snapshots_of(session, chunk, now=now, window_days=window)
        changes = [
            MembershipChange(
                segment=segment,
                owner_id=owner_id,
                member=True,
                reasons=reasons(condition, snapshots[owner_id][1]),
                stored_reasons=None,
            )
            for owner_id in chunk
        ]
        await apply_memberships(session, changes, now=now)
    leaving = [
        MembershipChange(
            segment=segment, owner_id=owner_id, member=False, reasons=[], stored_reasons=[]
        )
        for owner_id in sorted(current - matching)
    ]
    await apply_memberships(session, leaving, now=now)
    segment.recompute_at = now + RECOMPUTE_EVERY
    return RecomputeResult(
        key=segment.key,
        entered=len(entering),
        left=len(current - matching),
        members=len(matching),
    )


async def recompute_due(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """The durable timer's pass: recomputes the segments whose time has come."""
    segments = await SegmentRepository(session).due_for_recompute(now, limit)
    for segment in segments:
        await recompute_segment(session, segment, now=now)
    return len(segments)


async def list_segments(
    session: AsyncSession, *, caller: Caller, page: PageParams
) -> tuple[list[SegmentRead], int]:
    _require_marketing(caller)
    segments = list(await SegmentRepository(session).segments())
    counts = await SegmentRepository(session).member_counts(caller)
    chosen = segments[page.offset : page.offset + page.limit]
    return [_as_read(segment, counts.get(segment.key, 0)) for segment in chosen], len(segments)


async def get_segment(session: AsyncSession, *, caller: Caller, key: str) -> SegmentRead:
    _require_marketing(caller)
    return await _read(session, caller, await _segment(session, key))


async def list_members(
    session: AsyncSession, *, caller: Caller, key: str, page: PageParams
) -> tuple[list[SampleOwner], int]:
    _require_marketing(caller)
    await _segment(session, key)
    rows, total = await SegmentRepository(session).members_page(key, caller, page)
    return [SampleOwner(owner_id=row.owner_id, reasons=row.reasons) for row in rows], total


async def owner_memberships(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID
) -> list[MembershipRead]:
    await visible_owner(session, caller, owner_id)
    return await memberships_of(session, owner_id)


async def memberships_of(session: AsyncSession, owner_id: uuid.UUID) -> list[MembershipRead]:
    repository = SegmentRepository(session)
    names = {segment.key: segment.name for segment in await repository.segments()}
    memberships = await repository.memberships_of(owner_id)
    return [
        MembershipRead(
            segment_key=key,
            segment_name=names.get(key, key),
            reasons=membership.reasons,
            entered_at=membership.entered_at,
        )
        for key, membership in sorted(memberships.items())
    ]


async def _segment(session: AsyncSession, key: str, *, for_update: bool = False) -> Segment:
    segment = await SegmentRepository(session).segment(key, for_update=for_update)
    if segment is None:
        raise SegmentNotFound(f"Segment {key!r} not found")
    return segment


async def _read(session: AsyncSession, caller: Caller, segment: Segment) -> SegmentRead:
    counts = await SegmentRepository(session).member_counts(caller)
    return _as_read(segment, counts.get(segment.key, 0))


def _as_read(segment: Segment, members: int) -> SegmentRead:
    return SegmentRead(
        id=segment.id,
        key=segment.key,
        name=segment.name,
        description=segment.description,
        condition=segment.condition,
        summary=describe(parse_condition(segment.condition)),
        version=segment.version,
        members=members,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
    )
