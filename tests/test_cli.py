"""The `cem` command as a user runs it."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import psutil
import pytest

from cli.embedded import free_port
from cli.launcher import components
from shared.config import DEV_JWT_SECRET


def cem(*args: str, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
    )


def test_token_mints_a_staff_token_with_its_roles_and_region():
    result = cem("token", "--staff", "--role", "cx_agent", "--region", "East")
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), DEV_JWT_SECRET, algorithms=["HS256"], audience="cem")
    assert (claims["cem_kind"], claims["roles"], claims["region"]) == (
        "staff",
        ["cx_agent"],
        "East",
    )


def test_token_mints_an_owner_token():
    owner = "4b0c2f0e-7d0c-4c55-9d6a-3f1f1c5e2a11"
    result = cem("token", "--owner", owner)
    claims = jwt.decode(result.stdout.strip(), DEV_JWT_SECRET, algorithms=["HS256"], audience="cem")
    assert (claims["cem_kind"], claims["sub"]) == ("owner", owner)


def test_token_mints_a_service_token_for_the_vehicle_gateway():
    result = cem("token", "--service", "vehicle-gateway")
    claims = jwt.decode(result.stdout.strip(), DEV_JWT_SECRET, algorithms=["HS256"], audience="cem")
    assert (claims["cem_kind"], claims["sub"]) == ("service", "vehicle-gateway")


def test_token_needs_exactly_one_kind():
    result = cem("token", "--staff", "--service", "vehicle-gateway")
    assert result.returncode == 2 and "exactly one of" in result.stderr


def test_token_is_refused_outside_development():
    result = cem(
        "token",
        "--staff",
        CEM_ENVIRONMENT="production",
        CEM_INTERNAL_SECRET="a-production-internal-secret-0123456789",
        CEM_JWT_SECRET="a-production-jwt-secret-0123456789abcd",
        CEM_API_KEY_PEPPER="a-production-pepper-0123456789abcdef",
    )
    assert result.returncode == 1
    assert "refused outside the local environment" in result.stderr
    assert "eyJ" not in result.stdout + result.stderr


def test_production_refuses_development_secrets():
    result = cem("token", "--staff", CEM_ENVIRONMENT="production")
    assert result.returncode == 1
    assert "CEM_INTERNAL_SECRET must be set outside development" in result.stderr
    assert "Traceback" not in result.stderr


def test_dealer_and_key_commands_administer_the_running_platform(platform):
    gateway = ("--gateway", platform.gateway_url)
    code = f"C{uuid.uuid4().hex[:8]}"
    created = cem("dealer", "create", "--code", code, "--name", "Pudong Motors", "--city",
                  "Shanghai", "--region", "East", *gateway)  # fmt: skip
    assert created.returncode == 0, created.stderr
    dealer_id = created.stdout.strip()

    issued = cem("key", "create", "--dealer", dealer_id, *gateway)
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip()
    assert "will not be shown again" in issued.stderr
    as_dealer = {"X-API-Key": key}
    own = httpx.get(f"{platform.gateway_url}/v1/profile/dealers/{dealer_id}", headers=as_dealer)
    assert own.status_code == 200, own.text

    key_id = key.split("_")[1]
    listed = cem("key", "list", "--dealer", dealer_id, *gateway)
    assert key_id in listed.stdout
    assert key not in listed.stdout

    assert cem("key", "revoke", key_id, *gateway).returncode == 0
    refused = httpx.get(f"{platform.gateway_url}/v1/profile/dealers", headers=as_dealer)
    assert refused.status_code == 401


def test_a_dealer_groups_key_sees_the_dealers_put_in_the_group(platform):
    gateway = ("--gateway", platform.gateway_url)
    suffix = uuid.uuid4().hex[:8]
    dealers = []
    for number in (1, 2):
        created = cem("dealer", "create", "--code", f"C{number}{suffix}", "--name", "Motors",
                      "--city", "Hangzhou", "--region", "East", *gateway)  # fmt: skip
        dealers.append(created.stdout.strip())
    made = cem("dealer", "group", "create", "--code", f"G{suffix}", "--name", "Grand Auto",
               "--region", "East", *gateway)  # fmt: skip
    assert made.returncode == 0, made.stderr
    group_id = made.stdout.strip()
    moved = cem("dealer", "group", "assign", "--dealer", dealers[0], "--group", group_id, *gateway)
    assert moved.returncode == 0, moved.stderr

    issued = cem("key", "create", "--group", group_id, *gateway)
    assert issued.returncode == 0, issued.stderr
    assert f"dealer group {group_id}" in issued.stderr
    as_group = {"X-API-Key": issued.stdout.strip()}

    def visible() -> list[str]:
        listed = httpx.get(f"{platform.gateway_url}/v1/profile/dealers", headers=as_group)
        return [dealer["id"] for dealer in listed.json()["items"]]

    deadline = time.monotonic() + 30  # the gateway learns the move from profile's event
    while visible() != dealers[:1] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert visible() == dealers[:1]
    assert issued.stdout.strip().split("_")[1] in cem("key", "list", "--group", group_id,
                                                      *gateway).stdout  # fmt: skip
    both = cem("key", "list", "--dealer", dealers[0], "--group", group_id, *gateway)
    assert both.returncode != 0 and "--dealer or --group" in both.stderr


def test_api_problems_are_printed_readably(platform):
    gateway = ("--gateway", platform.gateway_url)
    code = f"C{uuid.uuid4().hex[:8]}"
    dealer = ("dealer", "create", "--code", code, "--name", "N", "--city", "C", "--region", "R")
    assert cem(*dealer, *gateway).returncode == 0

    again = cem(*dealer, *gateway)

    assert again.returncode == 1
    assert "(409, dealer_code_taken)" in again.stderr
    assert "Traceback" not in again.stderr


def test_commands_explain_an_unreachable_gateway():
    result = cem("key", "list", "--dealer", str(uuid.uuid4()), "--gateway", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "Cannot reach the gateway" in result.stderr


class RunningUp:
    """`cem up` as a user starts it: embedded servers in its own folder, free ports."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {component.name: free_port() for component in components()}
        self.gateway_url = f"http://127.0.0.1:{self.ports['gateway']}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CEM_")}
        environment["CEM_DATABASE_PREFIX"] = f"cemup_{uuid.uuid4().hex[:8]}"
        port_options = [f"--port={name}={port}" for name, port in self.ports.items()]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "--data-dir", str(data_dir), *port_options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )

        self.output: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read_output, daemon=True).start()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "CEM is running" in line:
                self.ready.set()

    def wait_until_ready(self) -> None:
        if not self.ready.wait(timeout=240):
            self.process.kill()
            raise AssertionError(f"cem up did not start: {self.finish()}")

    def descendants(self) -> list[psutil.Process]:
        """Its children, and the PostgreSQL server that pg_ctl detached from it."""
        postmaster_pid = int((self.data_dir / "postgres/postmaster.pid").read_text().split()[0])
        children = psutil.Process(self.process.pid).children(recursive=True)
        return [*children, psutil.Process(postmaster_pid)]

    def finish(self) -> tuple[int, str, str]:
        assert self.process.stderr is not None
        returncode = self.process.wait(timeout=60)
        return returncode, "".join(self.output), self.process.stderr.read()


def _gone(processes: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=5)
    return not alive


@pytest.fixture
def up(tmp_path) -> Iterator[RunningUp]:
    running = RunningUp(tmp_path / "cem")
    yield running
    if running.process.poll() is None:  # the test failed half-way: stop it as a user would
        running.process.send_signal(signal.SIGINT)
        running.process.wait(timeout=60)


def test_up_runs_everything_until_ctrl_c_then_stops_it_all(up):
    up.wait_until_ready()
    started = up.descendants()
    commands = [" ".join(process.cmdline()) for process in started]
    for port in up.ports.values():
        assert any(f"--port {port}" in command for command in commands)
    assert any("nats-server" in command for command in commands)

    up.process.send_signal(signal.SIGINT)
    returncode, stdout, stderr = up.finish()

    assert returncode == 0, stderr
    assert "CEM is running" in stdout
    assert f"{up.gateway_url}/docs" in stdout
    assert "Stopped." in stdout
    assert _gone(started)
    assert not (up.data_dir / "postgres/postmaster.pid").exists()


def test_up_shuts_everything_down_when_a_component_dies(up):
    up.wait_until_ready()
    started = up.descendants()
    profile = next(p for p in started if "services.profile.main" in " ".join(p.cmdline()))

    profile.kill()
    returncode, _, stderr = up.finish()

    assert returncode == 1
    assert "profile stopped unexpectedly" in stderr
    assert _gone(started)
