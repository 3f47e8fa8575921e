"""Analytics, survey-integrity and privacy API models."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, IPvAnyNetwork, StringConstraints, field_validator

from services.feedback.domain import ScoreBand, SurveyKind, Touchpoint
from services.feedback.domain.analytics import CoachingFlag, Period
from services.feedback.schemas import Body, InvitationRead, PostRead, Read, ResponseRead
from shared.pagination import Page


class Dimension(StrEnum):
    """What an analytics figure may be broken down by."""

    DEALER = "dealer_id"
    TOUCHPOINT = "touchpoint"
    LIFECYCLE_STAGE = "lifecycle_stage"
    MODEL = "model"


class Figure(BaseModel):
    """A score with the counts behind it. `score` is NPS (-100..100) or CSAT (% answering
    4-5); `response_rate` is answers received over invitations sent in the same periods."""

    invited: int
    responses: int
    promoters: int
    passives: int
    detractors: int
    top_box: int
    score: float | None
    average: float | None
    response_rate: float | None
    # Answers sent from the dealer's own registered networks (staff only).
    from_dealer_network: int | None = None


class PeriodFigure(Figure):
    period_start: date


class ScoreGroup(BaseModel):
    key: str | None
    total: Figure
    series: list[PeriodFigure]


class ScoreReport(BaseModel):
    kind: SurveyKind
    period: Period
    start: date
    end: date
    by: Dimension | None
    total: Figure
    groups: list[ScoreGroup]


class TopicCount(BaseModel):
    topic: str
    name_en: str | None
    name_zh: str | None
    mentions: int
    # Of the answers in the band, the share that named the topic.
    share: float | None


class TopicReport(BaseModel):
    kind: SurveyKind
    band: ScoreBand
    start: date
    end: date
    answers: int
    topics: list[TopicCount]


class VerbatimRead(Read):
    id: uuid.UUID
    submitted_at: datetime
    dealer_id: uuid.UUID | None
    touchpoint: str
    lifecycle_stage: str | None
    model: str | None
    kind: str
    score: int | None
    band: str | None
    comment: str
    topics: list[str]
    sentiment: float | None
    language: str


class VerbatimPage(Page[VerbatimRead]):
    pass


# Survey integrity


class DealerIntegrity(BaseModel):
    dealer_id: uuid.UUID | None
    answers: int
    top_box: int
    top_box_share: float | None
    baseline_answers: int
    baseline_top_box: int
    baseline_top_box_share: float | None
    top_box_jump_z: float
    from_dealer_network: int
    from_shared_network: int
    touchpoints: int
    uninvited_touchpoints: int
    flags: list[CoachingFlag]


class IntegrityReport(BaseModel):
    kind: SurveyKind
    start: date
    end: date
    baseline_start: date
    baseline_end: date
    dealers: list[DealerIntegrity]


class DealerSuppression(BaseModel):
    dealer_id: uuid.UUID | None
    touchpoints: int
    uninvited: int
    reasons: dict[str, int]


class SuppressionReport(BaseModel):
    start: date
    end: date
    touchpoints: list[Touchpoint]
    dealers: list[DealerSuppression]


class SuppressedTouchpointRead(BaseModel):
    id: uuid.UUID
    source: str
    touchpoint: str
    dealer_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    invitation_id: uuid.UUID | None
    occurred_at: datetime
    reason: str


class SuppressedTouchpointPage(Page[SuppressedTouchpointRead]):
    pass


class DealerNetworkCreate(Body):
    cidr: IPvAnyNetwork
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class DealerNetworkRead(Read):
    id: uuid.UUID
    dealer_id: uuid.UUID
    cidr: str
    label: str | None
    created_by: str
    created_at: datetime

    @field_validator("cidr", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return str(value)


# Privacy


class TouchpointExport(Read):
    id: uuid.UUID
    touchpoint: str
    dealer_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    invitation_id: uuid.UUID | None
    outcome: str
    occurred_at: datetime


class OwnerExport(BaseModel):
    owner_id: uuid.UUID
    exported_at: datetime
    invitations: list[InvitationRead]
    responses: list[ResponseRead]
    posts: list[PostRead]
    touchpoints: list[TouchpointExport]
