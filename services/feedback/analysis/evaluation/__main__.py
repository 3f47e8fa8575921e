"""How well text analysis works, on the labelled sets beside this file.

    python -m services.feedback.analysis.evaluation [--misses]

Prints complaint precision and recall, topic accuracy and language accuracy, overall and
per language, for the seed taxonomy. `--misses` lists every text it got wrong.

`labelled.jsonl` (221 texts) is the set the lexicon was tuned on: its figures are in-sample.
`holdout.jsonl` (50 texts) was written after tuning and is never tuned on: its figures are
the honest ones. Add new texts to the held-out set only.
"""

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.feedback.analysis.analyzer import Analysis, TextAnalyzer
from services.feedback.analysis.taxonomy import SEED_TOPICS, TopicRule

SETS = {
    "tuning": Path(__file__).parent / "labelled.jsonl",
    "held-out": Path(__file__).parent / "holdout.jsonl",
}
RECALL_TARGET = 0.85


@dataclass(frozen=True)
class Example:
    id: str
    language: str
    text: str
    complaint: bool
    topic: str | None


@dataclass(frozen=True)
class Scores:
    examples: int
    complaints: int
    true_positives: int
    false_positives: int
    topic_hits: int
    language_hits: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.complaints if self.complaints else 1.0

    @property
    def topic_accuracy(self) -> float:
        return self.topic_hits / self.examples if self.examples else 1.0

    @property
    def language_accuracy(self) -> float:
        return self.language_hits / self.examples if self.examples else 1.0


def load(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as lines:
        return [Example(**json.loads(line)) for line in lines if line.strip()]


def score(results: Sequence[tuple[Example, Analysis]]) -> Scores:
    return Scores(
        examples=len(results),
        complaints=sum(example.complaint for example, _ in results),
        true_positives=sum(example.complaint and bool(a.flag) for example, a in results),
        false_positives=sum(not example.complaint and bool(a.flag) for example, a in results),
        topic_hits=sum(example.topic == a.topic for example, a in results),
        language_hits=sum(example.language == a.language for example, a in results),
    )


def evaluate(
    examples: Sequence[Example], topics: Sequence[TopicRule] = SEED_TOPICS
) -> list[tuple[Example, Analysis]]:
    analyzer = TextAnalyzer(topics)
    return [(example, analyzer.analyse(example.text)) for example in examples]


def report(name: str, results: Sequence[tuple[Example, Analysis]]) -> str:
    lines = [
        f"{name} set",
        f"{'part':<6}{'texts':>7}{'complaints':>12}{'precision':>11}{'recall':>8}"
        f"{'topic acc.':>12}{'language acc.':>15}",
    ]
    for name in ("all", "zh", "en"):
        part = [r for r in results if name == "all" or r[0].language == name]
        s = score(part)
        lines.append(
            f"{name:<6}{s.examples:>7}{s.complaints:>12}{s.precision:>11.3f}{s.recall:>8.3f}"
            f"{s.topic_accuracy:>12.3f}{s.language_accuracy:>15.3f}"
        )
    recall = score(results).recall
    verdict = "meets" if recall >= RECALL_TARGET else "misses"
    lines.append(f"complaint recall {recall:.3f} {verdict} the target of {RECALL_TARGET}")
    return "\n".join(lines)


def misses(results: Sequence[tuple[Example, Analysis]]) -> str:
    wrong = [
        f"{example.id} complaint={example.complaint} flagged={analysis.flag} "
        f"topic={example.topic} got={analysis.topic} sentiment={analysis.sentiment}: "
        f"{example.text}"
        for example, analysis in results
        if example.complaint != bool(analysis.flag) or example.topic != analysis.topic
    ]
    return "\n".join(wrong)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every text it got wrong")
    arguments = parser.parse_args()
    for name, path in SETS.items():
        results = evaluate(load(path))
        print(report(name, results))
        if arguments.misses:
            print(misses(results))
        print()


if __name__ == "__main__":
    main()
