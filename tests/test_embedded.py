"""The servers `make run` starts when none are configured keep their data across restarts."""

import socket
import subprocess
import sys

import asyncpg
import nats
import psutil

from cli.embedded import EmbeddedNats, EmbeddedPostgres, port_is_free


async def _write(url: str, value: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS kept (value text)")
        await connection.execute("INSERT INTO kept VALUES ($1)", value)
    finally:
        await connection.close()


async def _read(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [row["value"] for row in await connection.fetch("SELECT value FROM kept")]
    finally:
        await connection.close()


async def test_embedded_postgres_keeps_data_across_a_restart(tmp_path):
    postgres = EmbeddedPostgres(tmp_path / "pg")
    with postgres:
        assert postgres.url.startswith("postgresql://postgres@127.0.0.1:")
        await _write(postgres.url, "before")
    with postgres:
        assert await _read(postgres.url) == ["before"]


async def test_embedded_postgres_starts_again_after_a_crash(tmp_path):
    postgres = EmbeddedPostgres(tmp_path / "pg")
    try:
        postgres.start()
        await _write(postgres.url, "committed")
        postgres.kill()  # leaves a stale postmaster.pid behind
        assert (postgres.data_dir / "postmaster.pid").exists()

        postgres.start()
        assert await _read(postgres.url) == ["committed"]
    finally:
        postgres.stop()


async def test_embedded_postgres_takes_over_a_server_left_running(tmp_path):
    """`cem up` killed with SIGKILL leaves its PostgreSQL running; the next start recovers."""
    orphan = EmbeddedPostgres(tmp_path / "pg").start()
    await _write(orphan.url, "kept")
    successor = EmbeddedPostgres(tmp_path / "pg")
    try:
        successor.start()
        assert await _read(successor.url) == ["kept"]
    finally:
        successor.stop()
        orphan.stop()


async def test_embedded_nats_keeps_a_stream_across_a_crash(tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()
    port = server.port
    try:
        client = await nats.connect(server.url)
        jetstream = client.jetstream()
        await jetstream.add_stream(name="KEPT", subjects=["kept.>"])
        await jetstream.publish("kept.one", b"payload")
        await client.close()

        server.kill()
        server.start()

        assert server.port == port
        client = await nats.connect(server.url)
        message = await client.jetstream().get_msg("KEPT", 1)
        await client.close()
        assert message.data == b"payload"
    finally:
        server.stop()


async def test_embedded_nats_restarts_gracefully_on_its_port(tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        client = await nats.connect(server.url)
        await client.jetstream().add_stream(name="KEPT", subjects=["kept.>"])
        await client.close()

        server.restart()

        client = await nats.connect(server.url)
        info = await client.jetstream().stream_info("KEPT")
        await client.close()
        assert info.config.subjects == ["kept.>"]
    finally:
        server.stop()


OWNER_SCRIPT = """
import sys, time
from pathlib import Path
from cli.embedded import EmbeddedNats, EmbeddedPostgres, port_is_free
folder = Path(sys.argv[1])
EmbeddedPostgres(folder / "pg", durable=False).start()
nats = EmbeddedNats(folder / "nats").start()
print(nats._process.pid, flush=True)
time.sleep(600)
"""


def test_servers_stop_when_their_owner_is_killed(tmp_path):
    """A test run or `cem up` killed outright leaves no server behind."""
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert owner.stdout is not None
    nats_pid = int(owner.stdout.readline())
    postmaster_pid = int((tmp_path / "pg/postmaster.pid").read_text().split()[0])
    servers = [psutil.Process(nats_pid), psutil.Process(postmaster_pid)]

    owner.kill()
    owner.wait()

    _, alive = psutil.wait_procs(servers, timeout=15)
    assert alive == []


def test_a_port_is_free_once_its_server_stopped_even_with_connections_closing():
    """`cem up` right after a stop: the old server's closed connections (TIME_WAIT) must
    not read as the port being in use; a listening server must."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert not port_is_free(port)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end waits in TIME_WAIT
    client.close()
    server.close()
    assert port_is_free(port)
