"""One simulation: the world drawn from the seed, pushed through the gateway phase by phase."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gateway.config import GatewaySettings
from simulator.context import Run, Tally
from simulator.gateway import Credentials, Gateway
from simulator.stages import casework, dms, journeys, roadside, service_desk, setup, signals, voice
from simulator.world import build_world


@dataclass(frozen=True)
class Options:
    gateway_url: str
    seed: int
    owners: int
    dealers: int
    days: int
    until: date
    concurrency: int = 32
    lanes: int = 8
    sample_seconds: int = 120
    settle_seconds: float = 1800.0
    telemetry: bool = True


def progress_bar(console: Console | None = None, *, disable: bool = False) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=disable,
        transient=False,
    )


async def simulate(
    options: Options, progress: Progress, settings: GatewaySettings | None = None
) -> Tally:
    world = build_world(
        seed=options.seed,
        owners=options.owners,
        dealers=options.dealers,
        days=options.days,
        until=options.until,
    )
    async with Gateway(options.gateway_url, concurrency=options.concurrency) as gateway:
        run = Run(
            world=world,
            gateway=gateway,
            credentials=Credentials(settings or GatewaySettings()),
            progress=progress,
            sample_seconds=options.sample_seconds,
            settle_seconds=options.settle_seconds,
        )
        started = time.monotonic()
        try:
            await _stages(run, options)
        finally:
            await setup.revoke_keys(run)
        run.tally.add("run", seconds=round(time.monotonic() - started))
        return run.tally


Stage = Callable[[Run], Awaitable[None]]


async def _stages(run: Run, options: Options) -> None:
    """Phase after phase; the stages of a phase run side by side: each waits only on the
    platform, so the platform's services work at once, not in turn."""
    telemetry = options.telemetry
    send_signals = partial(signals.send_signals, lanes=options.lanes) if telemetry else None
    phases: list[list[Stage | None]] = [
        [setup.dealers],
        # Before the fleet arrives: deliveries and visits invite, journeys listen, cases route.
        [setup.surveys, journeys.install, service_desk.configure],
        [dms.import_fleet],
        [dms.learn_owner_ids],
        # What the fleet does (the owners' consents came with the import).
        [send_signals, voice.posts, dms.record_interactions, voice.leads],
        # As long after the posts and leads as the run took. Roadside calls come once the
        # vehicles' events have reached the services (tickets routes a call to the car's
        # servicing dealer only for a car it knows).
        [casework.answer_cases, roadside.requests],
        [voice.survey_answers, signals.quality_analysis if telemetry else None],
        [journeys.release_ota],
        [casework.answer_survey_complaints],
    ]  # fmt: skip
    if not telemetry:
        run.skip("Vehicle signals and the quality analysis", "left out (--no-telemetry)")
    for phase in phases:
        async with asyncio.TaskGroup() as group:
            for stage in filter(None, phase):
                group.create_task(_timed(run, stage))


async def _timed(run: Run, stage: Stage) -> None:
    started = time.monotonic()
    await stage(run)
    name = getattr(stage, "func", stage).__name__
    run.tally.seconds[name] = round(time.monotonic() - started, 1)


def summary(tally: Tally) -> Table:
    table = Table(title="Simulated fleet", show_lines=False)
    table.add_column("stage")
    table.add_column("counts")
    for stage, counts in tally.counts.items():
        table.add_row(stage, ", ".join(f"{name} {value:,}" for name, value in counts.items()))
    for stage, reason in tally.skipped.items():
        table.add_row(f"[yellow]{stage}[/]", f"[yellow]skipped: {reason}[/]")
    table.add_row(
        "seconds per stage", ", ".join(f"{name} {value}" for name, value in tally.seconds.items())
    )
    return table
