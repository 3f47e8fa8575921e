"""Offline text analysis on fixed Chinese and English examples, and its measured quality."""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import pytest

from services.feedback.analysis.analyzer import TextAnalyzer, detect_language, segment
from services.feedback.analysis.evaluation.__main__ import SETS, evaluate, load, score
from services.feedback.analysis.taxonomy import SEED_TOPICS

analyzer = TextAnalyzer(SEED_TOPICS)


@pytest.mark.parametrize(
    ("text", "flag", "topic", "severity"),
    [
        ("智能钥匙又失灵了，每天早上都打不开车门，太让人失望了", "complaint", "smart_key", "high"),
        ("The smart key keeps failing and I cannot unlock the car. Very disappointed.",
         "complaint", "smart_key", "high"),
        ("售后服务顾问态度很差，返修三次都没修好", "complaint", "service_quality", "high"),
        ("The service advisor was rude and the repair took three weeks. Unacceptable.",
         "complaint", "service_quality", "high"),
        ("高速上突然失控，刹车失灵，太危险了", "safety", None, "critical"),
        ("Smoke came out from under the seat while charging.", "safety", None, "critical"),
        ("交付很顺利，交付专员很专业，非常满意", None, "delivery", "low"),
        ("Love the new OTA update, navigation is so smooth now", None, "ota", "low"),
        ("请问怎么给家人添加一把手机钥匙？", None, "smart_key", "low"),
        ("How do I pair a second phone key?", None, "smart_key", "low"),
    ],
)  # fmt: skip
def test_fixed_examples(text, flag, topic, severity):
    analysis = analyzer.analyse(text)
    assert analysis.flag == flag
    if topic:
        assert analysis.topic == topic
    assert analysis.severity == severity


def test_language_and_segmentation():
    assert detect_language("OTA升级后车机很卡") == "zh"
    assert detect_language("The OTA update broke CarPlay") == "en"
    tokens = segment("智能钥匙又失灵了", extra_words=["智能钥匙"])
    assert tokens[0] == "智能钥匙" and "失灵" in tokens


def test_negation_turns_praise_into_complaint_and_back():
    assert analyzer.analyse("充电速度一点都不满意，太慢了").sentiment < 0
    assert analyzer.analyse("充电桩用了半年没有任何问题").flag is None
    assert analyzer.analyse("The charging was not bad at all").flag is None


def test_complaint_recall_meets_the_target_on_the_labelled_sets():
    tuning = score(evaluate(load(SETS["tuning"])))
    held_out = score(evaluate(load(SETS["held-out"])))
    assert tuning.examples >= 200
    assert tuning.recall >= 0.85 and tuning.precision >= 0.85
    assert held_out.recall >= 0.85 and held_out.precision >= 0.85
