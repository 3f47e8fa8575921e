"""SIGTERM under load, as Kubernetes sends it on a rollout: nothing acknowledged is lost.

The platform runs each component with the command its image runs (test_images.py), so this
is the shutdown a pod goes through once its preStop pause is over.
"""

import asyncio
import signal
import time
import uuid
from dataclasses import dataclass, field

import httpx

from cli.launcher import STOP_TIMEOUT_SECONDS
from shared.auth import CallerKind, StaffRole
from tests.e2e.conftest import bearer
from tests.helpers import eventually

CLIENTS = 8
VICTIM = "profile"
# Refused requests: the gateway answers 503 while the service is down, never a 500.
REFUSED = {502, 503}
WARM_CREATED = 20


@dataclass
class Load:
    """Clients creating dealers until stopped; `warm` is set once enough were created."""

    results: list[tuple[int, str | None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    warm: asyncio.Event = field(default_factory=asyncio.Event)

    def created(self) -> list[str]:
        return [dealer for status, dealer in self.results if status == 201]

    async def client(self, gateway: httpx.AsyncClient) -> None:
        # A caller of its own per client: the gateway's rate limit is per caller.
        headers = bearer(CallerKind.STAFF, f"load-{uuid.uuid4().hex[:8]}@cem.test", StaffRole.ADMIN)
        while not self.stop.is_set():
            code = f"S{uuid.uuid4().hex[:10]}"
            body = {"code": code, "name": f"Dealer {code}", "city": "Wuhan", "region": "Central"}
            response = await gateway.post("/v1/profile/dealers", json=body, headers=headers)
            self.results.append((response.status_code, response.json().get("id")))
            if len(self.created()) >= WARM_CREATED:
                self.warm.set()


async def _terminate(process) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    await asyncio.get_running_loop().run_in_executor(None, process.wait, STOP_TIMEOUT_SECONDS)
    return time.monotonic() - started


async def test_sigterm_under_load_loses_no_acknowledged_write_or_event(platform):
    component = next(c for c in platform.components if c.name == VICTIM)
    load = Load()
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gateway:
        clients = [asyncio.create_task(load.client(gateway)) for _ in range(CLIENTS)]
        try:
            await asyncio.wait_for(load.warm.wait(), timeout=30)
            seconds = await _terminate(platform.processes[VICTIM])
            await asyncio.sleep(0.3)  # requests keep coming while the service is gone
        finally:
            load.stop.set()
            await asyncio.gather(*clients)
            platform._spawn(component)
            await asyncio.get_running_loop().run_in_executor(None, platform._wait_ready, component)

        assert seconds < STOP_TIMEOUT_SECONDS
        statuses = [status for status, _ in load.results]
        assert set(statuses) <= {201, *REFUSED}, statuses
        assert any(status in REFUSED for status in statuses), "SIGTERM came after the load"
        created = load.created()
        admin = bearer(CallerKind.STAFF, "shutdown@cem.test", StaffRole.ADMIN)
        for dealer in created:
            response = await gateway.get(f"/v1/profile/dealers/{dealer}", headers=admin)
            assert response.status_code == 200, dealer

        async def gateway_learnt_every_dealer() -> bool:
            for dealer in created:
                keys = await gateway.get(f"/v1/gateway/dealers/{dealer}/keys", headers=admin)
                if keys.status_code != 200:
                    return False
            return True

        # Each acknowledged dealer's event reaches the gateway (outbox relay after restart).
        await eventually(gateway_learnt_every_dealer, within_seconds=30)
