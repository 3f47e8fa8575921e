"""Feedback's API models: `XCreate` in, `XRead` out. Bodies refuse unknown fields."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.feedback.domain import (
    Key,
    Localized,
    Question,
    QuestionType,
    Severity,
    SurveyKind,
    Touchpoint,
    questions_problem,
)
from shared.pagination import Page

Language = Annotated[str, StringConstraints(pattern=r"^(en|zh)$")]
SourceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Vin = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-HJ-NPR-Z0-9]{17}$")
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Surveys


class SurveyDefinition(Body):
    """A survey's content; each change of it is a new version."""

    kind: SurveyKind
    title: Localized
    questions: list[Question] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _fits_kind(self) -> "SurveyDefinition":
        if problem := questions_problem(self.kind, self.questions):
            raise ValueError(problem)
        return self


class SurveyCreate(SurveyDefinition):
    key: Key


class SurveyRead(Read):
    id: uuid.UUID
    key: str
    version: int
    kind: SurveyKind
    title: Localized
    questions: list[Question]
    created_by: str
    created_at: datetime


class SurveyPage(Page[SurveyRead]):
    pass


# Triggers


class TriggerCreate(Body):
    touchpoint: Touchpoint
    survey_key: Key
    delay_minutes: int = Field(default=0, ge=0, le=60 * 24 * 30)
    throttle_days: int = Field(default=30, ge=0, le=365)
    enabled: bool = True


class TriggerRead(Read):
    id: uuid.UUID
    touchpoint: Touchpoint
    survey_key: str
    delay_minutes: int
    throttle_days: int
    enabled: bool
    created_at: datetime
    updated_at: datetime


# Invitations


class InvitationCreate(Body):
    """Staff invite an owner by hand (a call-centre contact, a test drive done)."""

    survey_key: Key
    owner_id: uuid.UUID
    touchpoint: Touchpoint
    dealer_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None


class TouchRead(Read):
    """Where and to whom a survey went: the context every invitation and answer keeps."""

    touchpoint: str
    lifecycle_stage: str | None
    owner_id: uuid.UUID | None  # None once the owner is erased
    dealer_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    model: str | None
    language: str
    ticket_id: uuid.UUID | None


class InvitationRead(TouchRead):
    id: uuid.UUID
    template_id: uuid.UUID
    status: str
    send_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    suppressed_reason: str | None
    created_at: datetime


class InvitationPage(Page[InvitationRead]):
    pass


class ChoiceView(BaseModel):
    value: str
    label: str


class QuestionView(BaseModel):
    """A question as the owner sees it, in the invitation's language."""

    id: str
    type: QuestionType
    text: str
    required: bool
    choices: list[ChoiceView]
    scale: tuple[int, int] | None


class SurveyView(BaseModel):
    invitation_id: uuid.UUID
    language: str
    title: str
    questions: list[QuestionView]
    expires_at: datetime


class AnswerCreate(Body):
    answers: dict[Key, Any] = Field(max_length=30)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None


# Responses


class ResponseRead(TouchRead):
    id: uuid.UUID
    invitation_id: uuid.UUID
    survey_key: str
    survey_version: int
    kind: str
    score: int | None
    band: str | None
    answers: dict[str, Any]
    comment: str | None
    topics: list[str]
    sentiment: float | None
    severity: str | None
    flag: str | None
    channel: str
    submitted_at: datetime


class StaffResponseRead(ResponseRead):
    """Staff also see provenance (dealers do not: it would help game the scores)."""

    device_hash: str | None
    network_hash: str | None


class ResponsePage(Page[ResponseRead]):
    pass


# Topics and analysis


class TopicCreate(Body):
    key: Key
    name_en: Name
    name_zh: Name
    severity: Severity
    keywords_en: list[Keyword] = Field(default_factory=list, max_length=200)
    keywords_zh: list[Keyword] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _has_keywords(self) -> "TopicCreate":
        if not self.keywords_en and not self.keywords_zh:
            raise ValueError("a topic needs at least one keyword")
        return self


class TopicRead(Read):
    key: str
    name_en: str
    name_zh: str
    severity: Severity
    keywords_en: list[str]
    keywords_zh: list[str]
    updated_at: datetime


class AnalysisRequest(Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class AnalysisRead(BaseModel):
    language: str
    topics: list[str]
    sentiment: float
    severity: Severity
    safety: bool
    flag: str | None


# Posts and reviews


class PostSource(StrEnum):
    COMMUNITY = "community"
    APP_STORE = "app_store"
    AUTO_MEDIA = "auto_media"
    SOCIAL = "social"


class PostIn(Body):
    source: PostSource
    source_id: SourceId
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://")] | None = None
    owner_id: uuid.UUID | None = None
    vin: Vin | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    # The counts are stored in 32-bit columns: a larger one is a 422, not a database error.
    likes: int = Field(default=0, ge=0, le=2**31 - 1)
    comments: int = Field(default=0, ge=0, le=2**31 - 1)
    shares: int = Field(default=0, ge=0, le=2**31 - 1)
    # When the connector read the counts (default: when the batch arrives).
    engagement_at: datetime | None = None
    published_at: datetime


class PostBatch(Body):
    posts: list[PostIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _distinct(self) -> "PostBatch":
        keys = [(post.source, post.source_id) for post in self.posts]
        if len(set(keys)) != len(keys):
            raise ValueError("a batch names each (source, source_id) once")
        return self


class IngestResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    flagged: int
    # Posts by erased owners, not taken in (they have no id in `post_ids`).
    skipped: int = 0
    post_ids: list[uuid.UUID]


class PostRead(Read):
    id: uuid.UUID
    source: str
    source_id: str
    url: str | None
    owner_id: uuid.UUID | None
    dealer_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    title: str | None
    body: str
    rating: int | None
    likes: int
    comments: int
    shares: int
    engagement_seen_at: datetime | None
    language: str
    topics: list[str]
    sentiment: float
    severity: str
    flag: str | None
    published_at: datetime
    flagged_at: datetime | None
    updated_at: datetime


class PostPage(Page[PostRead]):
    pass
