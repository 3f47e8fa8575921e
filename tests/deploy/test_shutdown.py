"""SIGTERM under load, as Kubernetes sends it on a rollout: no 5xx at the gateway, nothing lost.

For each service in turn, on the one platform the suite shares: clients write and read
through the gateway (and another service writes events this one consumes), the service gets
SIGTERM and is started again on the same port. While it drains and while it is away the
gateway holds the requests and sends them again (gateway/proxy.py), so no client sees a 5xx;
afterwards every accepted write is stored, every event the service committed is published,
and every consumer of its stream, and its own consumers, have caught up.
"""

import asyncio
import itertools
import re
import signal
import time
from dataclasses import dataclass, field

import httpx
import nats
import pytest

from cli.launcher import READY_TIMEOUT_SECONDS, STOP_TIMEOUT_SECONDS, Platform
from shared.messaging.envelope import stream_name
from tests.deploy.shutdown_workloads import (
    WORKLOADS,
    Workload,
    caller_of_its_own,
    outbox_drained,
)
from tests.helpers import eventually

CLIENTS = 3  # on the restarted service, and one more on the service feeding it events
WARM_WRITES = 10  # accepted before the SIGTERM
WRITES_AFTER_RESTART = 5  # accepted by the new process before the load stops
PAUSE_SECONDS = 0.03  # between one client's requests: well inside the per-caller rate limit


@dataclass
class Load:
    """Clients writing and reading through the gateway until stopped."""

    workload: Workload
    failures: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    numbers: itertools.count = field(default_factory=itertools.count)

    async def client(self, gateway: httpx.AsyncClient) -> None:
        writer = self.workload.credentials()
        reader = caller_of_its_own()
        while not self.stop.is_set():
            write = self.workload.write(next(self.numbers))
            # The client's key for this write, so the gateway may repeat it.
            keyed = {**writer, "Idempotency-Key": f"shutdown-{write.name}"}
            response = await gateway.request(write.method, write.path, json=write.body,
                                             headers=keyed)  # fmt: skip
            if self._answered(response):
                self.workload.accepted.append((write, response.json()))
            if self.workload.read_path:
                self._answered(await gateway.get(self.workload.read_path, headers=reader))
            await asyncio.sleep(PAUSE_SECONDS)

    def _answered(self, response: httpx.Response) -> bool:
        if response.status_code < 300:
            return True
        request = response.request
        self.failures.append(
            f"{request.method} {request.url.path} -> {response.status_code} {response.text[:300]}"
        )
        return False

    async def writes_reach(self, count: int) -> None:
        async def reached() -> bool:
            assert not self.failures, self.failures[:5]
            return len(self.workload.accepted) >= count

        await eventually(reached, within_seconds=60)


@pytest.fixture(scope="module")
async def gateway(platform):
    # The gateway may hold a request as long as a restart may take (cli/launcher.py).
    timeout = READY_TIMEOUT_SECONDS + STOP_TIMEOUT_SECONDS + 30
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=timeout) as client:
        yield client


@pytest.mark.parametrize("service", list(WORKLOADS))
async def test_sigterm_under_load_shows_no_5xx_and_loses_nothing(platform, gateway, service):
    victim = WORKLOADS[service]()
    feeder = WORKLOADS["profile" if service != "profile" else "tickets"]()
    await victim.prepare(gateway)
    loads = [Load(victim), Load(feeder)]
    clients = [
        *(asyncio.create_task(loads[0].client(gateway)) for _ in range(CLIENTS)),
        asyncio.create_task(loads[1].client(gateway)),
    ]
    retries_before = await _gateway_retries(gateway, service)
    try:
        await loads[0].writes_reach(WARM_WRITES)
        seconds = await _restart(platform, service)
        await loads[0].writes_reach(len(victim.accepted) + WRITES_AFTER_RESTART)
    finally:
        for load in loads:
            load.stop.set()
        await asyncio.gather(*clients)

    assert seconds < STOP_TIMEOUT_SECONDS, f"{service} took {seconds:.1f} s to stop"
    for load in loads:
        assert not load.failures, load.failures[:5]
    # The requests met the restart: the gateway held some and sent them again.
    assert await _gateway_retries(gateway, service) > retries_before
    for workload in (victim, feeder):
        assert await workload.missing(gateway, platform) == [], workload.service
    await outbox_drained(platform, service)
    await _consumers_caught_up(platform, service)


async def _restart(platform: Platform, service: str) -> float:
    """SIGTERM, then the same command on the same port; returns how long it took to stop."""
    loop = asyncio.get_running_loop()
    process = platform.processes[service]
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    await loop.run_in_executor(None, process.wait, STOP_TIMEOUT_SECONDS)
    seconds = time.monotonic() - started
    component = next(c for c in platform.components if c.name == service)
    platform._spawn(component)
    await loop.run_in_executor(None, platform._wait_ready, component)
    return seconds


async def _gateway_retries(gateway: httpx.AsyncClient, service: str) -> float:
    metrics = (await gateway.get("/metrics")).text
    pattern = rf'^cem_gateway_upstream_retries_total{{[^}}]*service="{service}"[^}}]*}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, metrics, re.MULTILINE))


async def _consumers_caught_up(platform: Platform, service: str) -> None:
    """Every consumer of the service's stream, and each of its own consumers, has every
    event delivered and acknowledged."""
    client = await nats.connect(platform.environment["CEM_NATS_URL"])
    jetstream = client.jetstream()

    async def caught_up() -> bool:
        behind = []
        for stream in await jetstream.streams_info():
            own_stream = stream.config.name == stream_name(service)
            for consumer in await jetstream.consumers_info(stream.config.name):
                if own_stream or consumer.name.startswith(f"{service}_"):
                    if consumer.num_pending or consumer.num_ack_pending:
                        behind.append(consumer.name)
        return not behind

    try:
        await eventually(caught_up, within_seconds=60)
    finally:
        await client.close()
