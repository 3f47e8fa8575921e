"""One simulation: the world drawn from the seed, pushed through the gateway stage by stage."""

import time
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
    settle_seconds: float = 300.0
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


async def _stages(run: Run, options: Options) -> None:
    stages = [
        setup.dealers,
        setup.surveys,  # before the import, so that deliveries and visits invite
        journeys.install,
        service_desk.configure,  # queues, SLA policies and routing before any case opens
        dms.import_fleet,
        dms.learn_owner_ids,
        dms.consents,
        voice.posts,
        dms.record_interactions,
        voice.leads,
        roadside.requests,
        partial(signals.send_signals, lanes=options.lanes) if options.telemetry else None,
        casework.answer_cases,  # as long after the posts and leads as the run took
        voice.survey_answers,
        signals.quality_analysis if options.telemetry else None,
        journeys.release_ota,
        casework.answer_survey_complaints,
    ]
    if not options.telemetry:
        run.skip("Vehicle signals and the quality analysis", "left out (--no-telemetry)")
    for stage in filter(None, stages):
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
