"""Reviews and community posts from connectors: batched, idempotent by (source, source id).

A post seen again updates its engagement counts; a changed text is analysed again. A post
is flagged once, when it first becomes a complaint, and that raises `PostFlagged`.
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.analysis.analyzer import TextAnalyzer
from services.feedback.domain import PRIORITY_FOR, Severity
from services.feedback.errors import PostNotFound
from services.feedback.models import Post
from services.feedback.repository import FeedbackRepository
from services.feedback.schemas import IngestResult, PostBatch, PostIn
from services.feedback.service.access import require_ingester
from services.feedback.service.topics import analyzer
from shared.auth import Caller
from shared.contracts.feedback import PostFlagged
from shared.messaging.outbox import record_event
from shared.pagination import PageParams

ENGAGEMENT = ("likes", "comments", "shares")
CHANNEL_OF_SOURCE = {"community": "community", "app_store": "web", "auto_media": "web"}


async def ingest(
    session: AsyncSession, *, caller: Caller, batch: PostBatch, now: datetime
) -> IngestResult:
    require_ingester(caller)
    repository = FeedbackRepository(session)
    known = await repository.posts_by_source([(p.source, p.source_id) for p in batch.posts])
    text_analyzer = await analyzer(session)
    counts = dict.fromkeys(("created", "updated", "unchanged", "flagged", "skipped"), 0)
    ids: list[uuid.UUID] = []
    for item in batch.posts:
        post = known.get((item.source, item.source_id))
        if post is None:
            post = Post(
                source=item.source,
                source_id=item.source_id,
                created_at=now,
                engagement_seen_at=item.engagement_at or now,
                **_facts(item),
                **_engagement(item),
            )
            if not await _link(session, post, item):
                counts["skipped"] += 1  # its author was erased
                continue
            _analyse(post, text_analyzer)
            await repository.add(post)
            counts["created"] += 1
        elif post.erased_at is not None:
            counts["skipped"] += 1
            continue
        else:
            counts["updated" if _update(post, item, text_analyzer, now) else "unchanged"] += 1
        post.updated_at = now
        if post.flag and post.flagged_at is None:
            await _flag(session, post, now)
            counts["flagged"] += 1
        ids.append(post.id)
    await session.flush()
    return IngestResult(**counts, post_ids=ids)


def _facts(item: PostIn) -> dict:
    return item.model_dump(
        exclude={"source", "source_id", "owner_id", "vin", "engagement_at", *ENGAGEMENT},
        mode="python",
    )


def _engagement(item: PostIn) -> dict:
    return {name: getattr(item, name) for name in ENGAGEMENT}


def _update(post: Post, item: PostIn, text_analyzer: TextAnalyzer, now: datetime) -> bool:
    """Applies what changed; engagement counts only from a snapshot newer than the stored
    one (connectors resend and reorder). Returns whether anything changed."""
    facts = _facts(item)
    seen_at = item.engagement_at or now
    if post.engagement_seen_at is None or seen_at >= post.engagement_seen_at:
        facts |= _engagement(item)
        post.engagement_seen_at = seen_at
    changed = {name: value for name, value in facts.items() if getattr(post, name) != value}
    text_changed = "body" in changed or "title" in changed
    for name, value in changed.items():
        setattr(post, name, value)
    if text_changed:
        _analyse(post, text_analyzer)
    return bool(changed)


async def _link(session: AsyncSession, post: Post, item: PostIn) -> bool:
    """Ties the post to the owner, vehicle and dealer it names, as far as feedback knows;
    False when that owner was erased (their words are not taken in again)."""
    repository = FeedbackRepository(session)
    vehicle = await repository.known_vehicle(vin=item.vin) if item.vin else None
    owner_id = item.owner_id or (vehicle.owner_id if vehicle else None)
    if await repository.is_erased(owner_id):
        return False
    owner = await repository.known_owner(owner_id)
    post.owner_id = owner_id
    post.vin = item.vin
    post.vehicle_id = vehicle.id if vehicle else None
    post.dealer_id = (vehicle.dealer_id if vehicle else None) or (
        owner.dealer_id if owner else None
    )
    return True


def _analyse(post: Post, text_analyzer: TextAnalyzer) -> None:
    analysis = text_analyzer.analyse(f"{post.title or ''}\n{post.body}".strip())
    post.language = analysis.language
    post.topics = list(analysis.topics)
    post.sentiment = analysis.sentiment
    post.severity = analysis.severity
    post.flag = analysis.flag


async def _flag(session: AsyncSession, post: Post, now: datetime) -> None:
    post.flagged_at = now
    await record_event(
        session,
        PostFlagged(
            post_id=post.id,
            source=post.source,
            source_id=post.source_id,
            url=post.url,
            owner_id=post.owner_id,
            dealer_id=post.dealer_id,
            vehicle_id=post.vehicle_id,
            vin=post.vin,
            channel=CHANNEL_OF_SOURCE.get(post.source, "community"),
            flag=post.flag,
            priority=PRIORITY_FOR[Severity(post.severity)],
            severity=post.severity,
            category=post.topics[0] if post.topics else None,
            topics=post.topics,
            sentiment=post.sentiment,
            language=post.language,
            excerpt=post.body,
            flagged_at=now,
        ),
        subject=post.id,
        dealer_id=post.dealer_id,
        owner_id=post.owner_id,
    )


async def list_posts(
    session: AsyncSession, *, caller: Caller, page: PageParams, flag: str | None, source: str | None
) -> tuple[list[Post], int]:
    filters = []
    if flag:
        filters.append(Post.flag == flag)
    if source:
        filters.append(Post.source == source)
    return await FeedbackRepository(session).owned_page(
        Post, caller, page, *filters, order_by=Post.published_at.desc()
    )


async def get_post(session: AsyncSession, *, caller: Caller, post_id: uuid.UUID) -> Post:
    post = await FeedbackRepository(session).owned(Post, caller, post_id)
    if post is None:
        raise PostNotFound(f"Post {post_id} not found")
    return post
