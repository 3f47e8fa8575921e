"""`cem`: run the platform locally and administer it through its own API."""

import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.panel import Panel
from rich.table import Table

from cli.console import console, fail, notices, readable_errors
from cli.messaging import dead_letters_app, outbox_app
from gateway.config import GatewaySettings
from gateway.tokens import mint_development_token
from shared.auth import CallerKind, StaffRole
from shared.config import CommonSettings

if TYPE_CHECKING:  # the launcher and migrations load alembic, SQLAlchemy and nats: over half
    from cli.launcher import Platform  # a second each `cem token` or `cem key` need not pay

app = typer.Typer(help="CEM platform: run it locally and administer it.", no_args_is_help=True)
dealer_app = typer.Typer(help="Dealers (owned by the profile service).", no_args_is_help=True)
key_app = typer.Typer(help="Dealer API keys (owned by the gateway).", no_args_is_help=True)
app.add_typer(dealer_app, name="dealer")
app.add_typer(key_app, name="key")
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(outbox_app, name="outbox")

DATA_DIR = Path(".cem")
DEFAULT_GATEWAY = "http://127.0.0.1:8000"
GatewayUrl = Annotated[str, typer.Option("--gateway", help="Gateway base URL")]
DealerId = Annotated[uuid.UUID, typer.Option("--dealer", help="Dealer id")]
KEY_RETRY_SECONDS = 10.0  # the gateway learns of a new dealer from profile's event


def _parse_ports(values: list[str]) -> dict[str, int]:
    from cli.launcher import components

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
    from cli.launcher import Platform

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


def _stop(platform: "Platform") -> None:
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


def _print_welcome(platform: "Platform", seconds: float) -> None:
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
    from cli.launcher import components
    from shared.migrations import upgrade

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


group_app = typer.Typer(
    help="Dealer groups: region -> dealer group -> dealer (owned by the profile service).",
    no_args_is_help=True,
)
dealer_app.add_typer(group_app, name="group")
GroupId = Annotated[uuid.UUID, typer.Option("--group", help="Dealer group id")]
KeyDealer = Annotated[uuid.UUID | None, typer.Option("--dealer", help="A dealer's keys")]
KeyGroup = Annotated[uuid.UUID | None, typer.Option("--group", help="A dealer group's keys")]


@group_app.command("create")
def group_create(
    code: Annotated[str, typer.Option(help="The group's own code, e.g. GRAND")],
    name: Annotated[str, typer.Option()],
    region: Annotated[str, typer.Option()],
    gateway: GatewayUrl = DEFAULT_GATEWAY,
):
    """Register a dealer group; prints its id."""
    body = {"code": code, "name": name, "region": region}
    with admin_client(gateway) as client:
        print(checked(client.post("/v1/profile/dealer-groups", json=body))["id"])


@group_app.command("assign")
def group_assign(
    dealer: DealerId,
    group: Annotated[uuid.UUID | None, typer.Option(help="Omit to leave its group")] = None,
    gateway: GatewayUrl = DEFAULT_GATEWAY,
):
    """Put a dealer in a group of its region, whose keys then see its records."""
    path = f"/v1/profile/dealers/{dealer}/group"
    with admin_client(gateway) as client:
        checked(client.put(path, json={"group_id": str(group) if group else None}))
    notices.print(f"dealer {dealer} is now in group {group}" if group else "left its group")


def _keys_path(dealer: uuid.UUID | None, group: uuid.UUID | None) -> str:
    if (dealer is None) == (group is None):
        raise typer.BadParameter("give --dealer or --group")
    if group:
        return f"/v1/gateway/dealer-groups/{group}/keys"
    return f"/v1/gateway/dealers/{dealer}/keys"


def _print_new_key(issued: dict) -> None:
    holder = (
        f"dealer group {issued['dealer_group_id']}"
        if issued.get("dealer_group_id")
        else f"dealer {issued['dealer_id']}"
    )
    notices.print(
        f"[yellow]API key {issued['id']} for {holder}. "
        "Store it now: it will not be shown again.[/yellow]"
    )
    print(issued["key"])


@key_app.command("create")
def key_create(
    dealer: KeyDealer = None, group: KeyGroup = None, gateway: GatewayUrl = DEFAULT_GATEWAY
):
    """Issue an API key for a dealer, or for a dealer group (it sees every dealer of the
    group). The key is printed once and never shown again."""
    path = _keys_path(dealer, group)
    with admin_client(gateway) as client:
        deadline = time.monotonic() + KEY_RETRY_SECONDS
        response = client.post(path)
        while response.status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.5)
            response = client.post(path)
        issued = checked(response)
    _print_new_key(issued)


@key_app.command("list")
def key_list(
    dealer: KeyDealer = None, group: KeyGroup = None, gateway: GatewayUrl = DEFAULT_GATEWAY
):
    """List a dealer's or a dealer group's keys (never their secrets)."""
    path = _keys_path(dealer, group)
    with admin_client(gateway) as client:
        keys = checked(client.get(path))["items"]
    title = f"Keys of {dealer or group}"
    table = Table("id", "created", "last used", "revoked", "replaces", title=title)
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


if __name__ == "__main__":
    app()
