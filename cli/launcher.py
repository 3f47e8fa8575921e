"""Starts the whole platform on one machine: servers, migrations, services, gateway.

`Platform` is used by `cem up` (foreground, Ctrl-C stops it) and by the end-to-end tests
(free ports, a test database prefix). One process per component: its API, event consumers
and outbox relay run together. Every child runs in a process group of its own, so a
terminal's Ctrl-C reaches only the supervisor, which stops them in order: the gateway, then
the services, then NATS and PostgreSQL.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from cli.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    log_tail,
    port_is_free,
    start_watchdog,
)
from gateway.config import MIGRATIONS_DIR as GATEWAY_MIGRATIONS
from gateway.config import GatewaySettings
from shared.config import SERVICE_PORTS, CommonSettings
from shared.migrations import upgrade

READY_TIMEOUT_SECONDS = 180.0  # a busy 2-core machine was seen taking over 60 s
STOP_TIMEOUT_SECONDS = 10.0
# A service keeps an idle connection longer than the gateway does (gateway/proxy.py), so the
# gateway is the side that closes it and never sends a request down one the service is closing.
SERVICE_KEEP_ALIVE_SECONDS = 65
GATEWAY = "gateway"


@dataclass(frozen=True)
class Component:
    name: str
    app_factory: str
    migrations_dir: Path
    port: int


def components(ports: dict[str, int] | None = None) -> list[Component]:
    """Every service named in `SERVICE_PORTS`, then the gateway in front of them."""
    ports = ports or {}
    services = [
        Component(
            name=name,
            app_factory=f"services.{name}.main:create_app",
            migrations_dir=importlib.import_module(f"services.{name}.config").MIGRATIONS_DIR,
            port=ports.get(name, default_port),
        )
        for name, default_port in SERVICE_PORTS.items()
    ]
    gateway_port = ports.get(GATEWAY, GatewaySettings().gateway_port)
    gateway = Component(GATEWAY, "gateway.main:create_app", GATEWAY_MIGRATIONS, gateway_port)
    return [*services, gateway]


class Platform:
    def __init__(
        self,
        data_dir: Path,
        *,
        ports: dict[str, int] | None = None,
        environment: dict[str, str] | None = None,
        echo: bool = True,
        durable: bool = True,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.components = components(ports)
        self.environment = {**os.environ, **(environment or {})}
        self.echo = echo  # each child's output on the console too, not only in its log
        self.durable = durable
        self.postgres: EmbeddedPostgres | None = None
        self.nats: EmbeddedNats | None = None
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def gateway_url(self) -> str:
        return self.url(GATEWAY)

    def url(self, name: str) -> str:
        port = next(c.port for c in self.components if c.name == name)
        return f"http://127.0.0.1:{port}"

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def start(self) -> "Platform":
        """Servers, migrations, then every component until it is ready; all or nothing."""
        try:
            self._check_ports()
            self._start_servers()
            self._migrate()
            for component in self.components:
                self._spawn(component)
            for component in self.components:
                self._wait_ready(component)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_for_exit(self, poll_seconds: float = 0.5) -> str:
        """Blocks until a component exits; returns its name."""
        while not (exited := self.exited()):
            time.sleep(poll_seconds)
        return exited[0]

    def exited(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def stop(self) -> list[str]:
        """Stops everything it started; returns the components that had to be killed."""
        # The gateway first, so no request reaches a service that is going away.
        gateway = {GATEWAY: self.processes.pop(GATEWAY)} if GATEWAY in self.processes else {}
        killed = _terminate(gateway) + _terminate(self.processes)
        self.processes.clear()
        if self.nats:
            self.nats.stop()
        if self.postgres:
            self.postgres.stop()
        return killed

    def _check_ports(self) -> None:
        for component in self.components:
            if not port_is_free(component.port):
                raise RuntimeError(
                    f"port {component.port} for {component.name} is already in use: stop "
                    f"what listens there, or pick another with --port {component.name}=PORT"
                )

    def _start_servers(self) -> None:
        if not self.environment.get("CEM_DATABASE_URL"):
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres", durable=self.durable)
            self.postgres.start()
            self.environment["CEM_DATABASE_URL"] = self.postgres.url
        if not self.environment.get("CEM_NATS_URL"):
            self.nats = EmbeddedNats(self.data_dir / "nats").start()
            self.environment["CEM_NATS_URL"] = self.nats.url

    def _settings(self) -> CommonSettings:
        """Settings as the children will read them from their environment."""
        values = {
            key.removeprefix("CEM_").lower(): value
            for key, value in self.environment.items()
            if key.startswith("CEM_")
        }
        return CommonSettings.model_validate(values)

    def _migrate(self) -> None:
        settings = self._settings()
        for component in self.components:
            upgrade(component.name, component.migrations_dir, settings)

    def _spawn(self, component: Component) -> None:
        environment = dict(self.environment)
        if component.name == GATEWAY:
            environment["CEM_UPSTREAMS"] = json.dumps(
                {c.name: self.url(c.name) for c in self.components if c.name != GATEWAY}
            )
            environment["CEM_GATEWAY_PORT"] = str(component.port)
            # One process per service here: the gateway holds a request through a service's
            # restart (up to a start-up's length) rather than answer 503 (gateway/proxy.py).
            environment.setdefault("CEM_UPSTREAM_RETRY_SECONDS", str(int(READY_TIMEOUT_SECONDS)))
        else:
            # Where the other services listen (profile gathers their parts of an export).
            environment["CEM_PEER_URLS"] = json.dumps(
                {c.name: self.url(c.name) for c in self.components
                 if c.name not in (GATEWAY, component.name)}
            )  # fmt: skip
        command = [
            *(sys.executable, "-m", "uvicorn", "--factory", component.app_factory),
            *("--host", "127.0.0.1", "--port", str(component.port)),
            *("--loop", "uvloop", "--http", "httptools", "--no-access-log"),
            *("--timeout-graceful-shutdown", str(int(STOP_TIMEOUT_SECONDS) - 2)),
        ]
        if component.name != GATEWAY:
            command += ["--timeout-keep-alive", str(SERVICE_KEEP_ALIVE_SECONDS)]
        self.log_path(component.name).parent.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            command,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
        )
        self.processes[component.name] = process
        start_watchdog(process.pid, signal.SIGTERM)  # in case this supervisor is killed
        threading.Thread(
            target=_copy_output,
            args=(process, self.log_path(component.name), component.name if self.echo else None),
            daemon=True,
        ).start()

    def _wait_ready(self, component: Component) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        process = self.processes[component.name]
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{component.name} exited at start-up:\n{self._tail(component)}")
            try:
                if httpx.get(f"{self.url(component.name)}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"{component.name} was not ready within {READY_TIMEOUT_SECONDS:.0f} s "
            f"(log: {self.log_path(component.name)}):\n{self._tail(component)}"
        )

    def _tail(self, component: Component) -> str:
        return log_tail(self.log_path(component.name), 3000)

    def __enter__(self) -> "Platform":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _terminate(processes: dict[str, subprocess.Popen]) -> list[str]:
    """SIGTERM to all at once, then SIGKILL to whatever outlives the grace; returns those."""
    running = {name: process for name, process in processes.items() if process.poll() is None}
    for process in running.values():
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    killed = []
    for name, process in running.items():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            killed.append(name)
    return killed


_console_lock = threading.Lock()


def _copy_output(process: subprocess.Popen, log_path: Path, prefix: str | None) -> None:
    """Keeps each component's output in its log file and, for `cem up`, on the console."""
    assert process.stdout is not None
    with open(log_path, "ab") as log:
        for line in process.stdout:
            log.write(line)
            log.flush()
            if prefix:
                with _console_lock, suppress(OSError):  # a closed console must not block
                    sys.stdout.write(f"{prefix:>9} | {readable(line)}\n")
                    sys.stdout.flush()


# Shown first on the console; every other field follows as key=value.
_HEADLINE_FIELDS = ("timestamp", "level", "event")


def readable(line: bytes) -> str:
    """A JSON log line as `time level event key=value ...`; any other line as it is."""
    text = line.decode(errors="replace").rstrip()
    try:
        record = json.loads(text)
    except ValueError:
        return text
    if not isinstance(record, dict):
        return text
    clock = str(record.get("timestamp", ""))[11:23]
    level = str(record.get("level", "")).upper()
    details = " ".join(
        f"{key}={value}" for key, value in record.items() if key not in _HEADLINE_FIELDS
    )
    return f"{clock} {level:<7} {record.get('event', '')} {details}".rstrip()
