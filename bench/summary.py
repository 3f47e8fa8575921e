"""A benchmark's figures as JSON (`--json PATH`), for `python -m bench` to tabulate.

Each benchmark runs in a process of its own, so one module-level record per process is enough.
"""

import argparse
import json
from pathlib import Path

FIGURES: dict = {}


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, help="also write the figures measured to this file")


def record(**figures) -> None:
    FIGURES.update(figures)


def write(path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(FIGURES, indent=2, default=str))
