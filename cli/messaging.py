"""`cem dead-letters` and `cem outbox`: inspect and replay a service's events."""

import asyncio
import logging
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import structlog
import typer
from rich.table import Table

from cli.console import console, fail, notices, readable_errors
from shared.config import CommonSettings

if TYPE_CHECKING:  # SQLAlchemy and nats load when a command needs them, not for every `cem`
    from shared.database import Database

dead_letters_app = typer.Typer(
    help="Events a consumer gave up on: list them, replay them once fixed.",
    no_args_is_help=True,
)
outbox_app = typer.Typer(help="Events a service recorded and published.", no_args_is_help=True)
ServiceName = Annotated[
    str, typer.Option("--service", help="The service whose database holds them, e.g. tickets")
]


@asynccontextmanager
async def service_database(service: str) -> AsyncIterator["Database"]:
    """The service's own database, named from the usual CEM_* settings."""
    from shared.database import Database, service_url

    database = Database(service_url(CommonSettings(), service), pool_size=1)
    try:
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def jetstream_client() -> AsyncIterator:
    # The connection's own logs (a disconnect on close) go to stderr, never among the output.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    from shared.messaging.broker import connect

    client = await connect(CommonSettings().nats_url, name="cem-cli")
    try:
        yield client.jetstream()
    finally:
        await client.flush()
        await client.close()


def run_against_servers(work) -> object:
    """Runs `work`, turning unreachable servers or a missing database into one red line."""
    with readable_errors():
        try:
            return asyncio.run(work)
        except (OSError, TimeoutError) as error:
            fail(f"Cannot reach PostgreSQL or NATS ({error}). Is the platform running?")
        except Exception as error:
            if "does not exist" in str(error):
                fail(f"No such database: {error}")
            raise


@dead_letters_app.command("list")
def dead_letters_list(
    service: ServiceName,
    replayed: Annotated[bool, typer.Option(help="Include those already replayed")] = False,
):
    """List the events a service's consumers dead-lettered, with the reason."""

    async def load():
        from shared.messaging.replay import list_dead_letters

        async with service_database(service) as database:
            return await list_dead_letters(database, include_replayed=replayed)

    letters = run_against_servers(load())
    table = Table("id", "consumer", "subject", "event id", "deliveries", "failed", "replayed",
                  "reason", title=f"Dead letters of {service}")  # fmt: skip
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.consumer,
            letter.subject,
            letter.event_id or "-",
            str(letter.deliveries),
            f"{letter.failed_at:%Y-%m-%d %H:%M:%S}",
            f"{letter.replayed_at:%Y-%m-%d %H:%M:%S}" if letter.replayed_at else "-",
            letter.reason,
        )
    console.print(table)


@dead_letters_app.command("replay")
def dead_letters_replay(
    service: ServiceName,
    letter_id: Annotated[
        list[int], typer.Option("--id", help="A dead letter to replay (repeatable)")
    ] = [],  # noqa: B006
    every: Annotated[bool, typer.Option("--all", help="Replay every one not yet replayed")] = False,
):
    """Publish dead letters again and mark them replayed.

    Each keeps its original event id: consumers that handled it drop it in their inbox."""
    if bool(letter_id) == every:
        raise typer.BadParameter("give --id (repeatable) or --all")

    async def replay():
        from shared.messaging.replay import replay_dead_letters

        async with service_database(service) as database, jetstream_client() as jetstream:
            return await replay_dead_letters(database, jetstream, ids=letter_id or None)

    outcome = run_against_servers(replay())
    missing = sorted(set(letter_id) - {*outcome.replayed, *outcome.too_old})
    if missing:
        notices.print(f"[yellow]not found or already replayed: {missing}[/yellow]")
    if outcome.too_old:
        notices.print(
            f"[yellow]not replayed, older than the consumers' inbox memory (a replay could "
            f"apply them twice where they were handled): {outcome.too_old}[/yellow]"
        )
    notices.print(f"replayed {len(outcome.replayed)} dead letter(s)")
    for number in outcome.replayed:
        print(number)


_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str) -> datetime:
    """`90m`, `1h`, `2d` ago, or an ISO 8601 moment (UTC unless it names a zone)."""
    if match := _DURATION.match(value):
        return datetime.now(UTC) - timedelta(**{_UNIT[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "expected a duration such as 90m, 1h, 2d or an ISO 8601 time", param_hint="--since"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@outbox_app.command("replay")
def outbox_replay(
    service: ServiceName,
    since: Annotated[str, typer.Option(help="From when: 1h, 90m, 2d or an ISO 8601 time")],
):
    """Publish again every event the service recorded since then.

    Each keeps its original id: consumers apply what they missed and drop the rest."""
    start = parse_since(since)

    async def replay():
        from shared.messaging.replay import replay_outbox

        async with service_database(service) as database, jetstream_client() as jetstream:
            return await replay_outbox(database, jetstream, since=start)

    count = run_against_servers(replay())
    notices.print(f"republished {count} event(s) recorded since {start:%Y-%m-%d %H:%M:%S} UTC")
    print(count)
