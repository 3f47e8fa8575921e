"""Runs every benchmark and writes the table of their figures to bench/RESULTS.md.

Each benchmark runs as a process of its own (`python -m bench.<name> ... --json PATH`), one
after another so that they do not skew each other; its printed output is shown as it comes and
kept in RESULTS.md, its JSON figures become rows: figure, baseline measured in the same run,
ratio, the target from the issue that introduced the feature, and whether it is met.

    python -m bench [--quick [--full-size NAME ...]] [--only NAME ...] [--timeout SECONDS]
                    [--output PATH]
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import targets
from bench.gateway.wrk import INSTALL_HINT

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# name -> (options for the full run, options for --quick). The full run's sizes are those the
# targets are set for; --quick shrinks them so that the suite fits a busy shared machine.
SIZES: dict[str, tuple[list[str], list[str]]] = {
    "gateway": (["--seconds", "5", "--rounds", "3"], ["--seconds", "3", "--rounds", "2"]),
    "telematics": (
        ["--batches", "1000", "--vehicles", "100000"],
        ["--batches", "60", "--senders", "100", "--vehicles", "20000"],
    ),
    "journeys": (["--owners", "100000"], ["--owners", "20000"]),
    "feedback": (
        ["--responses", "1000000"],
        ["--responses", "100000", "--runs", "10", "--naive-runs", "3"],
    ),
    "tickets": ([], ["--cases", "5000", "--due", "300", "--rounds", "3"]),
    "profile": (["--owners", "200000"], ["--owners", "30000", "--rounds", "1"]),
    "profile_import": (["--owners", "10000"], ["--owners", "2000"]),
    "jetstream": ([], ["--messages", "4000"]),
    "consumer": ([], ["--events", "5000", "--rounds", "1"]),
    "closed_loop": (["--posts", "50"], ["--posts", "20"]),
    "row_security": ([], ["--dealers", "100", "--reads", "200", "--rounds", "2"]),
}


@dataclass
class Outcome:
    name: str
    command: list[str]
    seconds: float = 0.0
    status: str = "ran"  # ran, skipped, failed
    reason: str = ""
    output: str = ""
    rows: list[targets.Row] = field(default_factory=list)


def main() -> None:
    arguments = _arguments()
    machine = _machine()
    print(f"bench: {machine['cpus']} CPUs, load average at start {machine['load']}", flush=True)
    outcomes = [_run(name, arguments) for name in arguments.only or SIZES]
    machine["load_end"] = _load()
    arguments.output.write_text(_markdown(machine, outcomes, arguments))
    print(f"\nwrote {arguments.output}")
    missed = [row for outcome in outcomes for row in outcome.rows if row.missed]
    for row in missed:
        print(f"target missed: {row.benchmark}: {row.figure} (target {row.target})")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a busy machine")
    parser.add_argument("--only", nargs="+", choices=list(SIZES), metavar="NAME",
                        help=f"run only these: {', '.join(SIZES)}")  # fmt: skip
    parser.add_argument("--full-size", nargs="+", choices=list(SIZES), default=[], metavar="NAME",
                        help="with --quick, still run these at full size")  # fmt: skip
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per benchmark")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    return parser.parse_args()


# Running


def _run(name: str, arguments: argparse.Namespace) -> Outcome:
    full, quick = SIZES[name]
    small = arguments.quick and name not in arguments.full_size
    command = [sys.executable, "-m", f"bench.{name}", *(quick if small else full)]
    outcome = Outcome(name, command)
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    if name == "gateway" and shutil.which("wrk") is None:
        outcome.status, outcome.reason = "skipped", f"wrk is not installed here ({INSTALL_HINT})"
        print(f"skipped: {outcome.reason}", flush=True)
        return outcome
    with tempfile.TemporaryDirectory(prefix="cem-bench-run-") as folder:
        summary = Path(folder) / f"{name}.json"
        began = time.monotonic()
        returncode, outcome.output = _stream([*command, "--json", str(summary)], arguments.timeout)
        outcome.seconds = time.monotonic() - began
        if returncode != 0 or not summary.exists():
            outcome.status = "failed"
            outcome.reason = _failure(returncode, arguments.timeout)
            return outcome
        try:
            outcome.rows = targets.ROWS[name](_json(summary))
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            outcome.status = "failed"
            outcome.reason = f"its figures could not be tabulated ({error!r}): {_json(summary)}"
    return outcome


def _stream(command: list[str], timeout: int) -> tuple[int | None, str]:
    """Runs `command`, echoing its output; None as the code when it ran out of time (it is
    interrupted, as Ctrl-C would, so that it stops the platform it started)."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
        if time.monotonic() > deadline:
            break
    if time.monotonic() > deadline and process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return None, "".join(lines)
    return process.wait(), "".join(lines)


def _failure(returncode: int | None, timeout: int) -> str:
    if returncode is None:
        return f"stopped after the {timeout} s timeout"
    return f"exited with status {returncode} (its output is below)"


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


# The machine


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "model": _cpu_model(),
        "memory": _memory(),
        "load": _load(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return "unknown"
    kilobytes = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
    return f"{kilobytes / 1024**2:.1f} GiB"


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = git("status", "--porcelain", "--", "bench", "services", "shared", "gateway")
    return commit + (" (with uncommitted changes in the tree)" if changed.strip() else "")


# RESULTS.md


def _markdown(machine: dict, outcomes: list[Outcome], arguments: argparse.Namespace) -> str:
    how = "python -m bench" + (" --quick" if arguments.quick else "")
    for option, names in (("--only", arguments.only), ("--full-size", arguments.full_size)):
        how += f" {option} {' '.join(names)}" if names else ""
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{how}`; every ratio compares two figures measured in the same run.",
        "",
        "| Machine | |",
        "|---|---|",
        f"| Date | {machine['date']} |",
        f"| Commit | {machine['commit']} |",
        f"| CPUs | {machine['cpus']} x {machine['model']} |",
        f"| Memory | {machine['memory']} |",
        f"| System | {machine['system']}, Python {machine['python']} |",
        f"| Load average (1, 5, 15 min) at start | {machine['load']} |",
        f"| Load average at the end | {machine['load_end']} |",
        "",
        _load_note(machine),
        "",
        "| Benchmark | Figure | Baseline, same run | Ratio | Target | Met? |",
        "|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        lines += [_table_row(row) for row in outcome.rows] or [_status_row(outcome)]
    lines += ["", *_plainly(outcomes), "", "## Runs", ""]
    lines += [_run_line(outcome) for outcome in outcomes]
    lines += ["", "## What each benchmark printed", ""]
    for outcome in outcomes:
        if outcome.output:
            lines += [f"<details><summary>{outcome.name}</summary>", "", "```",
                      outcome.output.rstrip(), "```", "", "</details>", ""]  # fmt: skip
    return "\n".join(lines) + "\n"


def _load_note(machine: dict) -> str:
    busiest = float(machine["load"].split(",")[0])
    if busiest <= (machine["cpus"] or 1):
        return "The machine was not oversubscribed at the start."
    return (
        f"**The machine was shared and oversubscribed**: a load average of {busiest:.0f} on "
        f"{machine['cpus']} CPUs at the start means each process got a fraction of a core; "
        "absolute figures are pessimistic, ratios (both sides measured under the same load) "
        "less so."
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table_row(row: targets.Row) -> str:
    verdict = f"**{row.verdict}**" if row.missed else row.verdict
    cells = (row.benchmark, row.figure, row.baseline, row.ratio, row.target, verdict)
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _status_row(outcome: Outcome) -> str:
    return f"| {outcome.name} | {outcome.status}: {_cell(outcome.reason)} | — | — | — | — |"


def _plainly(outcomes: list[Outcome]) -> list[str]:
    """Every target missed, every benchmark not run, in a sentence each."""
    missed = [row for outcome in outcomes for row in outcome.rows if row.missed]
    notes = [f"- Missed: {row.benchmark}, {row.figure}; target {row.target}; {row.verdict}. "
             f"Why: {targets.why_missed(row)}." for row in missed]  # fmt: skip
    notes += [f"- Not measured: {o.name}, {o.status}: {o.reason}." for o in outcomes
              if o.status != "ran"]  # fmt: skip
    return ["## Targets missed and benchmarks not run", "", *(notes or ["- None."])]


def _run_line(outcome: Outcome) -> str:
    command = " ".join(outcome.command[1:])
    took = f", {outcome.seconds:.0f} s" if outcome.seconds else ""
    reason = f": {outcome.reason}" if outcome.reason else ""
    return f"- `{command}`: {outcome.status}{took}{reason}"


main()
