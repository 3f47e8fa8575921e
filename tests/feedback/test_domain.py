"""Pure survey rules: NPS and CSAT arithmetic, answer validation, expiry and throttling."""

from datetime import UTC, datetime, timedelta

import pytest

from services.feedback.domain import (
    InvitationStatus,
    Question,
    ScoreBand,
    SurveyKind,
    invitation_problem,
    questions_problem,
    score_band,
    score_figure,
    throttled,
    validate_answers,
)
from shared.errors import InvalidInput

NOW = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"),
     (10, "promoter")],
)  # fmt: skip
def test_nps_bands_follow_the_standard_split(score, band):
    assert score_band(SurveyKind.NPS, score) == ScoreBand(band)


def test_nps_is_promoters_minus_detractors_in_percent_with_its_counts():
    figure = score_figure(SurveyKind.NPS, [10, 9, 9, 8, 7, 6, 0, 10, 3, 9])
    assert (figure.responses, figure.promoters, figure.passives, figure.detractors) == (10, 5, 2, 3)
    assert figure.value == 20.0  # (5 - 3) / 10
    assert score_figure(SurveyKind.NPS, [0, 1, 2]).value == -100.0
    assert score_figure(SurveyKind.NPS, []).value is None


def test_csat_is_the_share_of_four_and_five():
    figure = score_figure(SurveyKind.CSAT, [5, 4, 3, 2, 1, 5, 5, 4])
    assert (figure.promoters, figure.passives, figure.detractors) == (5, 1, 2)
    assert figure.value == 62.5


def question(**fields) -> Question:
    text = {"en": "Q", "zh": "问"}
    return Question.model_validate({"id": "q", "text": text} | fields)


def test_answers_are_checked_against_each_question_type():
    choices = [{"value": v, "label": {"en": v, "zh": v}} for v in ("app", "sms", "mail")]
    questions = [
        question(id="nps", type="nps"),
        question(id="channel", type="single_choice", choices=choices),
        question(id="topics", type="multiple_choice", choices=choices, required=False),
        question(id="stars", type="rating", scale_min=1, scale_max=7, required=False),
    ]
    good = {"nps": 9, "channel": "app", "topics": ["sms", "mail"], "stars": 7}
    assert validate_answers(questions, good) == good
    with pytest.raises(InvalidInput) as error:
        validate_answers(questions, {"nps": 11, "channel": "fax", "stars": True, "extra": 1})
    assert {e.field for e in error.value.errors} == {
        "body.answers.nps", "body.answers.channel", "body.answers.stars", "body.answers.extra",
    }  # fmt: skip
    with pytest.raises(InvalidInput, match="required"):
        validate_answers(questions, {"channel": "app"})


def test_a_survey_has_exactly_the_score_question_its_kind_reports():
    nps, csat = question(id="score", type="nps"), question(id="happy", type="csat")
    assert questions_problem(SurveyKind.NPS, [nps]) is None
    assert questions_problem(SurveyKind.NPS, [csat]) is not None
    assert questions_problem(SurveyKind.NPS, [nps, question(id="again", type="nps")]) is not None
    assert questions_problem(SurveyKind.CUSTOM, [question(id="why", type="text")]) is None


def test_an_invitation_is_answerable_once_and_until_it_expires():
    later = NOW + timedelta(days=14)
    assert invitation_problem(InvitationStatus.SENT, later, NOW) is None
    assert invitation_problem(InvitationStatus.SENT, later, later) == "expired"
    assert invitation_problem(InvitationStatus.ANSWERED, later, NOW) == "answered"
    assert invitation_problem(InvitationStatus.SCHEDULED, None, NOW) == "not_sent"


def test_no_owner_is_surveyed_twice_within_the_throttle():
    assert throttled(NOW, NOW + timedelta(days=29), 30)
    assert not throttled(NOW, NOW + timedelta(days=30), 30)
    assert not throttled(None, NOW, 30)
    assert not throttled(NOW, NOW, 0)
