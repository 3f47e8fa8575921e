"""The topic taxonomy (configuration as data) and the analyser built from it.

Text is analysed with the taxonomy as it is when the text arrives: a changed keyword
applies to the next answer or post, without a deploy.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.analysis.analyzer import Analysis, TextAnalyzer
from services.feedback.analysis.taxonomy import TopicRule
from services.feedback.domain import Severity
from services.feedback.errors import DuplicateTopic, TopicNotFound
from services.feedback.models import Topic
from services.feedback.repository import FeedbackRepository
from services.feedback.schemas import AnalysisRead, TopicCreate
from services.feedback.service.access import require_config_reader, require_configurer
from shared.auth import Caller
from shared.errors import InvalidInput


async def analyzer(session: AsyncSession) -> TextAnalyzer:
    topics = await FeedbackRepository(session).topics()
    return TextAnalyzer(
        [
            TopicRule(
                key=topic.key,
                name_en=topic.name_en,
                name_zh=topic.name_zh,
                severity=Severity(topic.severity),
                keywords_en=tuple(topic.keywords_en),
                keywords_zh=tuple(topic.keywords_zh),
            )
            for topic in topics
        ]
    )


async def analyse(session: AsyncSession, *, caller: Caller, text: str) -> AnalysisRead:
    """Shows staff what the current taxonomy makes of a text."""
    require_config_reader(caller)
    return analysis_read((await analyzer(session)).analyse(text))


def analysis_read(analysis: Analysis) -> AnalysisRead:
    return AnalysisRead(
        language=analysis.language,
        topics=list(analysis.topics),
        sentiment=analysis.sentiment,
        severity=analysis.severity,
        safety=analysis.safety,
        flag=analysis.flag,
    )


async def list_topics(session: AsyncSession, *, caller: Caller) -> list[Topic]:
    require_config_reader(caller)
    return list(await FeedbackRepository(session).topics())


async def create_topic(
    session: AsyncSession, *, caller: Caller, data: TopicCreate, now: datetime
) -> Topic:
    require_configurer(caller)
    repository = FeedbackRepository(session)
    if await repository.get(Topic, data.key):
        raise DuplicateTopic(f"Topic {data.key!r} already exists")
    return await repository.add(Topic(**data.model_dump(), updated_at=now))


async def replace_topic(
    session: AsyncSession, *, caller: Caller, key: str, data: TopicCreate, now: datetime
) -> Topic:
    require_configurer(caller)
    topic = await _topic(session, key)
    if data.key != key:
        raise InvalidInput.for_field("body.key", f"a topic key cannot change (from {key!r})")
    for name, value in data.model_dump().items():
        setattr(topic, name, value)
    topic.updated_at = now
    return topic


async def delete_topic(session: AsyncSession, *, caller: Caller, key: str) -> None:
    require_configurer(caller)
    await FeedbackRepository(session).delete(await _topic(session, key))


async def _topic(session: AsyncSession, key: str) -> Topic:
    topic = await FeedbackRepository(session).get(Topic, key, for_update=True)
    if topic is None:
        raise TopicNotFound(f"Topic {key!r} not found")
    return topic
