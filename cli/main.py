"""`cem`: run the platform locally and administer it through its own API."""

import asyncio
import logging
import re
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import httpx
import structlog
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from cli.launcher import Platform, components
from gateway.config import GatewaySettings
from gateway.tokens import mint_development_token
from shared.auth import CallerKind, StaffRole
from shared.config import CommonSettings
from shared.database import Database, service_url
from shared.errors import Forbidden
from shared.messaging.broker import connect
from shared.messaging.replay import list_dead_letters, replay_dead_letters, replay_outbox
from shared.migrations import upgrade

app = typer.Typer(help="CEM platform: run it locally and administer it.", no_args_is_help=True)
dealer_app = typer.Typer(help="Dealers (owned by the profile service).", no_args_is_help=True)
key_app = typer.Typer(help="Dealer API keys (owned by the gateway).", no_args_is_help=True)
app.add_typer(dealer_app, name="dealer")
app.add_typer(key_app, name="key")
dead_letters_app = typer.Typer(
    help="Events a consumer gave up on: list them, replay them once fixed.",
    no_args_is_help=True,
)
outbox_app = typer.Typer(help="Events a service recorded and published.", no_args_is_help=True)
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(outbox_app, name="outbox")

console = Console(highlight=False, soft_wrap=True)
# Messages for people go to stderr; stdout carries only what a script may capture (ids, keys).
notices = Console(stderr=True, highlight=False, soft_wrap=True)
DATA_DIR = Path(".cem")
DEFAULT_GATEWAY = "http://127.0.0.1:8000"
GatewayUrl = Annotated[str, typer.Option("--gateway", help="Gateway base URL")]
ServiceName = Annotated[
    str, typer.Option("--service", help="The service whose database holds them, e.g. tickets")
]
DealerId = Annotated[uuid.UUID, typer.Option("--dealer", help="Dealer id")]
KEY_RETRY_SECONDS = 10.0  # the gateway learns of a new dealer from profile's event


def fail(message: str) -> NoReturn:
    notices.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


@contextmanager
def readable_errors() -> Iterator[None]:
    """Turns the errors a user can cause or fix into one red line and exit code 1."""
    try:
        yield
    except ValidationError as error:
        reasons = (item["msg"].removeprefix("Value error, ") for item in error.errors())
        fail(f"Invalid settings: {'; '.join(reasons)}")
    except Forbidden as error:
        fail(error.detail)
    except httpx.TransportError as error:
        fail(f"Cannot reach the gateway ({error}). Is the platform running (`make run`)?")


def _parse_ports(values: list[str]) -> dict[str, int]:
    names = [component.name for component in components()]
    ports = {}
    for value in values:
        name, _, port = value.partition("=")
        if name not in names or not port.isdigit():
            raise typer.BadParameter(
                f"expected NAME=PORT with NAME one of {', '.join(names)}; got {value!r}",
                param_hint="--port",
            )
        ports[name] = int(port)
    return ports


@app.command()
def up(
    data_dir: Annotated[Path, typer.Option(help="Where embedded servers keep data")] = DATA_DIR,
    port: Annotated[
        list[str], typer.Option(help="Listen port of a component, e.g. gateway=9000")
    ] = [],  # noqa: B006
):
    """Start PostgreSQL and NATS (embedded unless CEM_DATABASE_URL / CEM_NATS_URL are set),
    migrate, then every service and the gateway, in the foreground. Ctrl-C stops it all."""
    ports = _parse_ports(port)
    with readable_errors():
        platform = Platform(data_dir, ports=ports)
    # SIGTERM (from a process manager) stops the platform just as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.monotonic()
    exit_code = 0
    try:
        platform.start()
        _print_welcome(platform, time.monotonic() - started)
        dead = platform.wait_for_exit()
        notices.print(f"[red]{dead} stopped unexpectedly (log: {platform.log_path(dead)})[/red]")
        exit_code = 1
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        notices.print(f"[red]Could not start the platform: {error}[/red]")
        exit_code = 1
    finally:
        _stop(platform)
    raise typer.Exit(exit_code)


def _stop(platform: Platform) -> None:
    # A second Ctrl-C must not cut the ordered shutdown short and leave servers behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with suppress(OSError):  # the console may be gone (a closed terminal or pipe)
        console.print("Stopping…")
    killed = platform.stop()
    with suppress(OSError):
        for name in killed:
            notices.print(f"[yellow]{name} did not stop in time and was killed[/yellow]")
        console.print("Stopped.")


def _print_welcome(platform: Platform, seconds: float) -> None:
    gateway = platform.gateway_url
    services = [c.name for c in platform.components if c.name != "gateway"]
    lines = [
        f"Gateway    {gateway}",
        f"API docs   {gateway}/docs",
        f"Dashboard  {gateway}/dashboard/",
        *(f"{name:<10} {platform.url(name)} (internal)" for name in services),
        f"Logs       {platform.data_dir / 'logs'}",
        "",
        "Staff token:  .venv/bin/cem token --staff --role admin",
        "Owner token:  .venv/bin/cem token --owner <owner id>",
        "A dealer:     .venv/bin/cem dealer create --code SH001 --name Pudong",
        "                --city Shanghai --region East",
        "Its API key:  .venv/bin/cem key create --dealer <dealer id>",
        "A fleet:      make demo",
        "",
        "Ctrl-C stops everything; data is kept for the next start.",
    ]
    if gateway != DEFAULT_GATEWAY:
        lines.append(f"Give the commands --gateway {gateway}")
    title = f"CEM is running (started in {seconds:.1f} s)"
    console.print(Panel("\n".join(lines), title=title, expand=False))


@app.command()
def migrate():
    """Create missing databases and migrate every component to its latest schema."""
    with readable_errors():
        settings = CommonSettings()
    for component in components():
        upgrade(component.name, component.migrations_dir, settings)
        console.print(f"migrated {component.name} ({settings.database_name(component.name)})")


@app.command()
def token(
    owner: Annotated[uuid.UUID | None, typer.Option(help="Owner id: mint an owner token")] = None,
    staff: Annotated[bool, typer.Option(help="Mint a staff token")] = False,
    role: Annotated[
        list[StaffRole], typer.Option(help="Staff role, repeatable (default admin)")
    ] = [],  # noqa: B006
    region: Annotated[str | None, typer.Option(help="Limit a staff token to a region")] = None,
    subject: Annotated[str, typer.Option(help="Staff subject (e-mail or id)")] = "dev@cem.local",
    service: Annotated[
        str | None, typer.Option(help="Mint a service token, e.g. vehicle-gateway")
    ] = None,
):
    """Print a development token (refused outside the local and test environments)."""
    if sum((owner is not None, staff, service is not None)) != 1:
        raise typer.BadParameter("give exactly one of --owner, --staff or --service")
    with readable_errors():
        settings = GatewaySettings()
        if owner is not None:
            minted = mint_development_token(settings, kind=CallerKind.OWNER, subject=str(owner))
        elif service is not None:
            minted = mint_development_token(settings, kind=CallerKind.SERVICE, subject=service)
        else:
            minted = mint_development_token(
                settings,
                kind=CallerKind.STAFF,
                subject=subject,
                roles=tuple(role or [StaffRole.ADMIN]),
                region=region,
            )
    print(minted)


@contextmanager
def admin_client(gateway: str) -> Iterator[httpx.Client]:
    """The gateway's API as a development admin, with errors a user can read."""
    with readable_errors():
        minted = mint_development_token(
            GatewaySettings(),
            kind=CallerKind.STAFF,
            subject="cli@cem.local",
            roles=(StaffRole.ADMIN,),
        )
        headers = {"Authorization": f"Bearer {minted}"}
        with httpx.Client(base_url=gateway, headers=headers, timeout=15) as client:
            yield client


def checked(response: httpx.Response) -> dict:
    """The response's JSON body, or the problem it reports printed and exit code 1."""
    if response.is_success:
        return response.json()
    try:
        problem = response.json()
    except ValueError:
        fail(f"HTTP {response.status_code}: {response.text[:300]}")
    lines = [
        f"{problem.get('title', 'Error')} ({response.status_code}, {problem.get('code')}): "
        f"{problem.get('detail')}",
        *(f"  {item.get('field')}: {item.get('message')}" for item in problem.get("errors", [])),
    ]
    fail("\n".join(lines))


@dealer_app.command("create")
def dealer_create(
    code: Annotated[str, typer.Option(help="The dealer's own code, e.g. SH001")],
    name: Annotated[str, typer.Option()],
    city: Annotated[str, typer.Option()],
    region: Annotated[str, typer.Option()],
    gateway: GatewayUrl = DEFAULT_GATEWAY,
):
    """Register a dealer; prints its id."""
    body = {"code": code, "name": name, "city": city, "region": region}
    with admin_client(gateway) as client:
        dealer = checked(client.post("/v1/profile/dealers", json=body))
    print(dealer["id"])


def _print_new_key(issued: dict) -> None:
    notices.print(
        f"[yellow]API key {issued['id']} for dealer {issued['dealer_id']}. "
        "Store it now: it will not be shown again.[/yellow]"
    )
    print(issued["key"])


@key_app.command("create")
def key_create(dealer: DealerId, gateway: GatewayUrl = DEFAULT_GATEWAY):
    """Issue an API key for a dealer. The key is printed once and never shown again."""
    path = f"/v1/gateway/dealers/{dealer}/keys"
    with admin_client(gateway) as client:
        deadline = time.monotonic() + KEY_RETRY_SECONDS
        response = client.post(path)
        while response.status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.5)
            response = client.post(path)
        issued = checked(response)
    _print_new_key(issued)


@key_app.command("list")
def key_list(dealer: DealerId, gateway: GatewayUrl = DEFAULT_GATEWAY):
    """List a dealer's keys (never their secrets)."""
    with admin_client(gateway) as client:
        keys = checked(client.get(f"/v1/gateway/dealers/{dealer}/keys"))["items"]
    table = Table("id", "created", "last used", "revoked", "replaces", title=f"Keys of {dealer}")
    for key in keys:
        table.add_row(
            key["id"],
            key["created_at"],
            key["last_used_at"] or "-",
            key["revoked_at"] or "-",
            key["replaces"] or "-",
        )
    console.print(table)


@key_app.command("rotate")
def key_rotate(key_id: str, gateway: GatewayUrl = DEFAULT_GATEWAY):
    """Replace a key: the new one is printed once, the old one stops working at once."""
    with admin_client(gateway) as client:
        issued = checked(client.post(f"/v1/gateway/keys/{key_id}/rotate"))
    _print_new_key(issued)


@key_app.command("revoke")
def key_revoke(key_id: str, gateway: GatewayUrl = DEFAULT_GATEWAY):
    """Revoke a key at once."""
    with admin_client(gateway) as client:
        checked(client.post(f"/v1/gateway/keys/{key_id}/revoke"))
    notices.print(f"revoked {key_id}")


@asynccontextmanager
async def service_database(service: str) -> AsyncIterator[Database]:
    """The service's own database, named from the usual CEM_* settings."""
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
        async with service_database(service) as database, jetstream_client() as jetstream:
            return await replay_outbox(database, jetstream, since=start)

    count = run_against_servers(replay())
    notices.print(f"republished {count} event(s) recorded since {start:%Y-%m-%d %H:%M:%S} UTC")
    print(count)


if __name__ == "__main__":
    app()
