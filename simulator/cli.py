"""`python -m simulator`: fills a running platform with a simulated fleet through its gateway."""

import asyncio
from datetime import UTC, datetime

import httpx
import typer
from rich.console import Console

from shared.errors import Forbidden
from simulator.gateway import GatewayError
from simulator.run import Options, progress_bar, simulate, summary

app = typer.Typer(add_completion=False, help=__doc__)

# `--small`: a fleet that loads in well under a minute (the tests use it).
SMALL = {"owners": 60, "dealers": 3, "days": 3}


@app.command()
def main(
    gateway: str = typer.Option("http://127.0.0.1:8000", help="The platform's gateway URL."),
    seed: int = typer.Option(7, help="The same seed and sizes give the same fleet."),
    owners: int = typer.Option(10_000, min=1, help="Owners (about 6% are prospects)."),
    dealers: int = typer.Option(30, min=1, max=30, help="Dealers, one per Chinese city."),
    days: int = typer.Option(
        14, min=1, max=365, help="Days of telemetry before --until (two weeks by default)."
    ),
    until: datetime = typer.Option(
        None, formats=["%Y-%m-%d"], help="The simulated 'today' (default: today, UTC)."
    ),
    small: bool = typer.Option(
        False, "--small", help="A small fleet: 60 owners, 3 dealers, 3 days."
    ),
    concurrency: int = typer.Option(32, min=1, max=256, help="Requests in flight at most."),
    lanes: int = typer.Option(8, min=1, max=64, help="Signal batches sent side by side."),
    sample_seconds: int = typer.Option(
        120, min=1, max=600, help="Seconds between samples on a trip."
    ),
    settle_seconds: float = typer.Option(
        1800.0,
        help="How long at most to wait for the platform's event-driven work at a checkpoint "
        "(a full-size import leaves the services hundreds of thousands of events to handle).",
    ),
    telemetry: bool = typer.Option(True, help="Send vehicle signals (--no-telemetry: skip)."),
) -> None:
    """Loads (or, re-run with the same seed and sizes, re-confirms) the simulated fleet."""
    sizes = dict(SMALL) if small else {"owners": owners, "dealers": dealers, "days": days}
    options = Options(
        gateway_url=gateway,
        seed=seed,
        until=(until or datetime.now(UTC)).date(),
        concurrency=concurrency,
        lanes=lanes,
        sample_seconds=sample_seconds,
        settle_seconds=settle_seconds,
        telemetry=telemetry,
        **sizes,
    )
    console = Console()
    try:
        with progress_bar(console) as progress:
            tally = asyncio.run(simulate(options, progress))
    except Exception as error:
        console.print(f"[red]{_explain(error, gateway)}")
        raise typer.Exit(1) from error
    console.print(summary(tally))
    for note in tally.notes:
        console.print(f"- {note}")


def _explain(error: BaseException, gateway: str) -> str:
    """The first failure (stages run requests side by side: failures come in groups)."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    if isinstance(error, httpx.TransportError):
        return f"Cannot reach the gateway at {gateway} ({error!r}); is `make run` up?"
    if isinstance(error, GatewayError | Forbidden):
        return f"The platform refused the simulation: {error}"
    raise error
