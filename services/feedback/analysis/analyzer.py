"""Offline bilingual text analysis: language, segmentation, topics, sentiment, severity and
the complaint verdict. No model is downloaded: jieba's dictionary ships in its wheel, and
the rest is the lexicon and the topic taxonomy.
"""

import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jieba

from services.feedback.analysis import lexicon
from services.feedback.analysis.taxonomy import TopicRule
from services.feedback.domain import Flag, Severity, complaint_flag

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_REPEAT_EN = [re.compile(pattern) for pattern in lexicon.REPEAT_EN]
_SAFETY_EN = [re.compile(pattern) for pattern in lexicon.SAFETY_EN]
_COMPLAINT_EN = [re.compile(pattern) for pattern in lexicon.COMPLAINT_WORDS_EN]
_NEGATION_WINDOW = 3
# Structures that report something broken whatever the words: a negative potential
# complement (停不了, 关不严), "not yet done" (没安排, 没有修好) unless it is "no problem",
# a refusal (不承认); in English a negated verb (doesn't close, never scheduled).
_ZH_CANNOT = re.compile(r"[\u4e00-\u9fff]不[了上进开动严住到出好懂清掉亮响稳](?!起)")
_ZH_NOT_DONE = re.compile(r"没(?!有?(问题|毛病|事|关系|想到|得说|任何))有?[\u4e00-\u9fff]")
_ZH_REFUSAL = re.compile(r"不(承认|接|理|回|管|处理|退|赔|认账|解决)")
_EN_REFUSAL = re.compile(r"\brefus(e|es|ed|ing) to\b")
_EN_STOPWORDS = frozenset(
    "a an the any to be been being have has had get got it its my me i we you they this that "
    "much many more very really so too at all even yet".split()
)
_QUESTION = re.compile(
    r"([?？]\s*$)|^(请问|想问|how|can|could|is|are|does|do|what|when|where|which|why)\b"  # noqa: RUF001
)

jieba.setLogLevel(logging.WARNING)
_tokenizer = jieba.Tokenizer()
_tokenizer_lock = threading.Lock()
_known_words: set[str] = set()


def detect_language(text: str) -> str:
    """ "zh" when Chinese characters carry the text (English product names may be mixed in)."""
    cjk = len(_CJK.findall(text))
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return "zh" if cjk and cjk * 2 >= min(latin, 8) else "en"


def segment(text: str, *, extra_words: Sequence[str] = ()) -> list[str]:
    """Chinese word segmentation (jieba), keeping the taxonomy's keywords whole."""
    with _tokenizer_lock:
        for word in extra_words:
            if word not in _known_words and _CJK.search(word):
                _tokenizer.add_word(word, freq=200_000)
                _known_words.add(word)
        return [token for token in _tokenizer.lcut(text) if token.strip()]


@dataclass(frozen=True)
class Analysis:
    language: str
    topics: tuple[str, ...]
    sentiment: float  # -1 (angry) .. 1 (delighted)
    severity: Severity
    safety: bool
    complaint_words: bool
    flag: Flag | None

    @property
    def topic(self) -> str | None:
        return self.topics[0] if self.topics else None


@lru_cache(maxsize=512)
def _english_keyword(keyword: str) -> re.Pattern[str]:
    # Bounded by anything but a Latin letter or digit: "OTA升级" names OTA, "rotate" does not.
    return re.compile(rf"(?<![a-z0-9]){re.escape(keyword.lower())}(s|es|ed|ing)?(?![a-z0-9])")


class TextAnalyzer:
    def __init__(self, topics: Sequence[TopicRule]) -> None:
        self.topics = list(topics)
        self._zh_words = [word for topic in self.topics for word in topic.keywords_zh]

    def analyse(self, text: str) -> Analysis:
        language = detect_language(text)
        lowered = text.lower()
        if language == "zh":
            tokens = segment(text, extra_words=self._zh_words)
            sentiment = _sentiment_zh(text, tokens)
            safety = any(word in text for word in lexicon.SAFETY_ZH)
            complaint_words = any(word in text for word in lexicon.COMPLAINT_WORDS_ZH)
            repeated = any(word in text for word in lexicon.REPEAT_ZH)
        else:
            sentiment = _sentiment_en(lowered)
            safety = any(pattern.search(lowered) for pattern in _SAFETY_EN)
            complaint_words = any(pattern.search(lowered) for pattern in _COMPLAINT_EN)
            repeated = any(pattern.search(lowered) for pattern in _REPEAT_EN)
        matched = self._topics(text, lowered)
        severity = _severity(matched[0] if matched else None, sentiment, safety, repeated)
        flag = complaint_flag(
            sentiment=sentiment,
            topic_severity=matched[0].severity if matched else None,
            safety=safety,
            complaint_words=complaint_words,
            persistent=repeated and not _QUESTION.search(lowered.strip()),
        )
        return Analysis(
            language=language,
            topics=tuple(topic.key for topic in matched),
            sentiment=sentiment,
            severity=severity if flag or sentiment < 0 else Severity.LOW,
            safety=safety,
            complaint_words=complaint_words,
            flag=flag,
        )

    def _topics(self, text: str, lowered: str) -> list[TopicRule]:
        """Topics the text names, the most named first (ties: the more severe first)."""
        hits: list[tuple[int, int, int, TopicRule]] = []
        for position, topic in enumerate(self.topics):
            count = sum(
                lowered.count(word.lower())
                if _CJK.search(word)
                else len(_english_keyword(word).findall(lowered))
                for word in (*topic.keywords_zh, *topic.keywords_en)
            )
            if count:
                hits.append((-count, -topic.severity.rank, position, topic))
        return [topic for *_, topic in sorted(hits)]


def _severity(topic: TopicRule | None, sentiment: float, safety: bool, repeated: bool):
    if safety:
        return Severity.CRITICAL
    severity = topic.severity if topic else Severity.LOW
    if sentiment < 0 and (repeated or sentiment <= -0.75):
        # Only safety is critical: a recurring or angry complaint rises at most to high.
        severity = min(severity.raised(), Severity.HIGH, key=lambda s: s.rank)
    return severity


def _squash(total: float) -> float:
    return round(math.tanh(total / 2), 3)


def _clause_weights(tokens: list[str], contrasts: Sequence[str]) -> list[float]:
    """What follows "but" is what the writer means: it counts double."""
    weights, weight = [], 1.0
    for token in tokens:
        if token in contrasts:
            weights = [w * 0.5 for w in weights]
            weight = 2.0
        weights.append(weight)
    return weights


def _polarity(token: str, positive: dict, negative: dict) -> float:
    return positive.get(token, 0.0) - negative.get(token, 0.0)


def _sentiment_zh(text: str, tokens: list[str]) -> float:
    """Opinion words found in jieba's tokens (a token may hold a negation, an intensifier or
    a particle around the word: 太坑了, 不满意), negated by the tokens before them."""
    weights = _clause_weights(tokens, lexicon.CONTRASTS_ZH)
    total = 0.0
    for index, token in enumerate(tokens):
        for word, modifiers in _opinion_words(token):
            value = _polarity(word, lexicon.POSITIVE_ZH, lexicon.NEGATIVE_ZH)
            before = [*tokens[max(0, index - _NEGATION_WINDOW) : index], *modifiers]
            if any(w in lexicon.NEGATIONS_ZH or w in _NEGATION_CHARS for w in before):
                value = -value * (0.5 if value < 0 else 1.0)
            if before and before[-1] in lexicon.INTENSIFIERS_ZH:
                value *= 1.5
            total += value * weights[index]
    problems = sum(text.count(pattern) for pattern in lexicon.PROBLEM_PATTERNS_ZH)
    problems += sum(
        len(pattern.findall(text)) for pattern in (_ZH_CANNOT, _ZH_NOT_DONE, _ZH_REFUSAL)
    )
    return _squash(total - 1.5 * problems)


_PARTICLES = "了的啊呢吧呀啦吗哦嘛"
_MODIFIER_CHARS = "不没未无别太很真超巨好"
_NEGATION_CHARS = frozenset("不没未无别")
_ZH_OPINIONS = sorted(
    (w for w in (*lexicon.POSITIVE_ZH, *lexicon.NEGATIVE_ZH) if len(w) > 1), key=len, reverse=True
)


def _opinion_words(token: str) -> list[tuple[str, list[str]]]:
    """The opinion words in one token, each with the modifiers written before it."""
    core = token.rstrip(_PARTICLES)
    modifiers: list[str] = []
    while len(core) > 1 and core not in lexicon.POSITIVE_ZH and core not in lexicon.NEGATIVE_ZH:
        if core[0] not in _MODIFIER_CHARS:
            break
        modifiers.append(core[0])
        core = core[1:]
    if core in lexicon.POSITIVE_ZH or core in lexicon.NEGATIVE_ZH:
        return [(core, modifiers)]
    found, taken = [], set()
    for word in _ZH_OPINIONS:
        start = core.find(word)
        span = set(range(start, start + len(word)))
        if start >= 0 and not span & taken:
            taken |= span
            found.append((word, [*modifiers, *core[:start]]))
    return found


def _sentiment_en(lowered: str) -> float:
    tokens = _LATIN_WORD.findall(lowered.replace("\u2019", "'"))
    weights = _clause_weights(tokens, lexicon.CONTRASTS_EN)
    total = 0.0
    for index, token in enumerate(tokens):
        before = tokens[max(0, index - _NEGATION_WINDOW) : index]
        negated = any(word in lexicon.NEGATIONS_EN for word in before)
        value = _polarity(token, lexicon.POSITIVE_EN, lexicon.NEGATIVE_EN)
        if value and negated:
            value = -value * (0.5 if value < 0 else 1.0)
        elif not value and token not in _EN_STOPWORDS and token not in lexicon.NEGATIONS_EN:
            # A negated verb reports what does not happen (won't unlock, never scheduled).
            value = -1.5 if any(w in lexicon.NEGATIONS_EN for w in before[-2:]) else 0.0
        if value and before and before[-1] in lexicon.INTENSIFIERS_EN:
            value *= 1.5
        total += value * weights[index]
    total -= 1.5 * len(_EN_REFUSAL.findall(lowered))
    return _squash(total)
