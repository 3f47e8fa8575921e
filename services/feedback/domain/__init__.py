"""Pure feedback rules: survey shapes, answer validation, NPS and CSAT arithmetic,
invitation lifetimes, throttling, severity and when a signal becomes a complaint."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.errors import FieldError, InvalidInput

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


class SurveyKind(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CUSTOM = "custom"


class QuestionType(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    RATING = "rating"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TEXT = "text"


CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})
SCALES: dict[QuestionType, tuple[int, int]] = {QuestionType.NPS: (0, 10), QuestionType.CSAT: (1, 5)}
MAX_TEXT_ANSWER = 4000


class Localized(BaseModel):
    """Every owner-facing text exists in both languages the platform speaks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: Text
    zh: Text

    def in_language(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Key
    label: Localized


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Key
    type: QuestionType
    text: Localized
    required: bool = True
    choices: list[Choice] = Field(default_factory=list, max_length=30)
    scale_min: int | None = Field(default=None, ge=0, le=10)
    scale_max: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _consistent(self) -> "Question":
        if self.type in CHOICE_TYPES:
            if len(self.choices) < 2:
                raise ValueError(f"a {self.type} question needs at least two choices")
            if len({choice.value for choice in self.choices}) != len(self.choices):
                raise ValueError("choice values must be unique")
        elif self.choices:
            raise ValueError(f"a {self.type} question takes no choices")
        if self.type is QuestionType.RATING:
            low, high = self.scale_min, self.scale_max
            if low is None or high is None or low >= high:
                raise ValueError("a rating question needs scale_min < scale_max")
        elif self.scale_min is not None or self.scale_max is not None:
            raise ValueError(f"a {self.type} question has a fixed scale")
        return self

    @property
    def scale(self) -> tuple[int, int] | None:
        if self.type is QuestionType.RATING:
            return self.scale_min, self.scale_max  # type: ignore[return-value]
        return SCALES.get(self.type)


def questions_problem(kind: SurveyKind, questions: list[Question]) -> str | None:
    """Why these questions cannot make a `kind` survey, or None.

    An NPS survey has exactly one NPS question and a CSAT survey one CSAT question (the
    score that is reported); any survey may add custom questions around it."""
    if len({question.id for question in questions}) != len(questions):
        return "question ids must be unique"
    for scored in (QuestionType.NPS, QuestionType.CSAT):
        count = sum(question.type is scored for question in questions)
        wanted = 1 if kind.value == scored.value else 0
        if count != wanted and kind is not SurveyKind.CUSTOM:
            return f"a {kind} survey has exactly {wanted} {scored} question(s), not {count}"
        if kind is SurveyKind.CUSTOM and count:
            return f"a custom survey has no {scored} question; make it an {scored} survey"
    return None


def score_question(kind: SurveyKind, questions: Iterable[Question]) -> Question | None:
    return next((q for q in questions if q.type.value == kind.value), None)


def validate_answers(questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers, checked against the questions; raises naming every wrong field."""
    errors: list[FieldError] = []
    known = {question.id for question in questions}
    errors += [
        FieldError(field=f"body.answers.{key}", message="no such question")
        for key in answers
        if key not in known
    ]
    clean: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.id)
        if value is None or value == "" or value == []:
            if question.required:
                errors.append(FieldError(field=f"body.answers.{question.id}", message="required"))
            continue
        if problem := _answer_problem(question, value):
            errors.append(FieldError(field=f"body.answers.{question.id}", message=problem))
            continue
        clean[question.id] = value.strip() if isinstance(value, str) else value
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    return clean


def _answer_problem(question: Question, value: Any) -> str | None:
    choices = {choice.value for choice in question.choices}
    if scale := question.scale:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if not scale[0] <= value <= scale[1]:
            return f"must be between {scale[0]} and {scale[1]}"
        return None
    if question.type is QuestionType.SINGLE_CHOICE:
        return None if value in choices else f"must be one of {', '.join(sorted(choices))}"
    if question.type is QuestionType.MULTIPLE_CHOICE:
        if not isinstance(value, list) or len(set(map(str, value))) != len(value):
            return "must be a list of distinct choices"
        unknown = [item for item in value if item not in choices]
        return f"unknown choices: {', '.join(map(str, unknown))}" if unknown else None
    if not isinstance(value, str) or not value.strip():
        return "must be text"
    return f"must be at most {MAX_TEXT_ANSWER} characters" if len(value) > MAX_TEXT_ANSWER else None


# Scores


class ScoreBand(StrEnum):
    """NPS: promoter 9-10, passive 7-8, detractor 0-6. CSAT: 4-5, 3, 1-2 the same way."""

    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def score_band(kind: SurveyKind, score: int) -> ScoreBand:
    promoter, passive = (9, 7) if kind is SurveyKind.NPS else (4, 3)
    if score >= promoter:
        return ScoreBand.PROMOTER
    return ScoreBand.PASSIVE if score >= passive else ScoreBand.DETRACTOR


@dataclass(frozen=True)
class ScoreFigure:
    """The counts behind a figure and the figure: NPS in -100..100, CSAT in 0..100 (% 4-5)."""

    kind: SurveyKind
    responses: int
    promoters: int
    passives: int
    detractors: int

    @property
    def value(self) -> float | None:
        if not self.responses:
            return None
        if self.kind is SurveyKind.NPS:
            return round(100 * (self.promoters - self.detractors) / self.responses, 1)
        return round(100 * self.promoters / self.responses, 1)


def score_figure(kind: SurveyKind, scores: Iterable[int]) -> ScoreFigure:
    bands = [score_band(kind, score) for score in scores]
    return ScoreFigure(
        kind=kind,
        responses=len(bands),
        promoters=bands.count(ScoreBand.PROMOTER),
        passives=bands.count(ScoreBand.PASSIVE),
        detractors=bands.count(ScoreBand.DETRACTOR),
    )


# Touchpoints and invitations


class Touchpoint(StrEnum):
    ORDER_DELIVERED = "order_delivered"
    SERVICE_VISIT_COMPLETED = "service_visit_completed"
    TICKET_RESOLVED = "ticket_resolved"
    TEST_DRIVE_DONE = "test_drive_done"
    CALL_CENTRE_CONTACT = "call_centre_contact"
    # A journey step asked for the survey (its own touchpoint when it names none of these).
    JOURNEY = "journey"


# The touchpoints whose missing invitations the suppression audit lists by default.
AUDITED_TOUCHPOINTS = (Touchpoint.ORDER_DELIVERED, Touchpoint.SERVICE_VISIT_COMPLETED)


class TouchOutcome(StrEnum):
    """What came of a touchpoint: an invitation, or the reason there is none."""

    INVITED = "invited"
    NO_TRIGGER = "no_trigger"
    TRIGGER_DISABLED = "trigger_disabled"
    SURVEY_MISSING = "survey_missing"
    NO_OWNER = "no_owner"  # e.g. a service visit imported without its owner
    OWNER_ERASED = "owner_erased"


class LifecycleStage(StrEnum):
    AWARENESS = "awareness"
    PURCHASE = "purchase"
    DELIVERY = "delivery"
    USE_AND_SERVICE = "usage_and_service"  # profile's name for the stage
    LOYALTY = "loyalty"


STAGE_AT: dict[Touchpoint, LifecycleStage] = {
    Touchpoint.TEST_DRIVE_DONE: LifecycleStage.AWARENESS,
    Touchpoint.ORDER_DELIVERED: LifecycleStage.DELIVERY,
    Touchpoint.SERVICE_VISIT_COMPLETED: LifecycleStage.USE_AND_SERVICE,
    Touchpoint.TICKET_RESOLVED: LifecycleStage.USE_AND_SERVICE,
    Touchpoint.CALL_CENTRE_CONTACT: LifecycleStage.USE_AND_SERVICE,
}


class InvitationStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its trigger's delay
    SENT = "sent"  # issued with a token, awaiting an answer
    ANSWERED = "answered"
    SUPPRESSED = "suppressed"  # never sent: the owner was surveyed too recently


class AnswerChannel(StrEnum):
    LINK = "link"  # the token from an SMS or e-mail
    APP = "app"  # the owner signed in to the app


def invitation_problem(
    status: InvitationStatus, expires_at: datetime | None, now: datetime
) -> str | None:
    """Why an invitation cannot be answered now ("answered", "expired", "not_sent"), or None."""
    if status is InvitationStatus.ANSWERED:
        return "answered"
    if status is not InvitationStatus.SENT or expires_at is None:
        return "not_sent"
    return "expired" if now >= expires_at else None


def throttled(last_surveyed_at: datetime | None, at: datetime, throttle_days: int) -> bool:
    """No owner is surveyed twice within `throttle_days` (0 turns the throttle off)."""
    if last_surveyed_at is None or throttle_days <= 0:
        return False
    return at - last_surveyed_at < timedelta(days=throttle_days)


# Severity and complaints


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def raised(self) -> "Severity":
        order = list(Severity)
        return order[min(self.rank + 1, len(order) - 1)]


# The case priority a complaint of each severity asks for (tickets' priorities).
PRIORITY_FOR: dict[Severity, str] = {
    Severity.LOW: "low",
    Severity.MEDIUM: "normal",
    Severity.HIGH: "high",
    Severity.CRITICAL: "urgent",
}


class Flag(StrEnum):
    COMPLAINT = "complaint"
    SAFETY = "safety"


# Below this sentiment (in -1..1) a text counts as negative, above the other as positive.
NEGATIVE_BELOW = -0.15
POSITIVE_ABOVE = 0.5
ANGRY_BELOW = -0.6


def complaint_flag(
    *,
    sentiment: float,
    topic_severity: Severity | None,
    safety: bool,
    complaint_words: bool,
    persistent: bool = False,
) -> Flag | None:
    """Safety words always flag; otherwise a text that says it is a complaint (投诉, refund),
    a clearly unhappy text, a negative text about a known topic, or a not-positive statement
    that something about a known topic keeps happening (一直, constantly) is a complaint."""
    if safety:
        return Flag.SAFETY
    if complaint_words and sentiment < POSITIVE_ABOVE:
        return Flag.COMPLAINT
    if sentiment <= ANGRY_BELOW:
        return Flag.COMPLAINT  # an unhappy owner, even about a topic the taxonomy lacks
    if topic_severity is not None and (
        sentiment < NEGATIVE_BELOW or (persistent and sentiment <= 0)
    ):
        return Flag.COMPLAINT
    return None
