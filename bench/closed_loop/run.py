"""Closed-loop latency: a complaint post through the gateway to its case, visible to the owner.

Starts the platform as `make run` does (every service and the gateway; the configured
PostgreSQL and NATS, else embedded ones). For each of `--posts` complaints, from an owner of
its own, it posts the complaint as the community connector
(`POST /v1/feedback/posts/batches`) and then reads the owner's cases as that owner
(`GET /v1/tickets/tickets?owner_id=...`) every `--poll-ms` until the case opened from the post
shows: feedback flags the post, its outbox relays the event over NATS, tickets' consumer opens
the case. Prints p50 and p95 of that latency, and as the baseline measured in the same run
the round trip of the same two requests without waiting for the asynchronous path (the POST
and one read); asserts nothing about time.

    python -m bench.closed_loop [--posts 50] [--poll-ms 20]
"""

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import httpx

from bench import summary
from bench.launch import started_platform
from gateway.config import GatewaySettings
from gateway.tokens import mint_development_token
from shared.auth import CallerKind

COMPLAINT = "My smart key keeps failing, the car would not unlock again this morning. Terrible!"
# A case must show within this, or the run stops: something is broken, not slow.
GIVE_UP_SECONDS = 120


def main() -> None:
    arguments = _arguments()
    with started_platform() as platform:
        asyncio.run(_bench(platform.gateway_url, arguments))
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50, help="complaints, one after another")
    parser.add_argument("--poll-ms", type=int, default=20, help="pause between reads")
    summary.add_option(parser)
    return parser.parse_args()


def _bearer(kind: CallerKind, subject: str) -> dict[str, str]:
    token = mint_development_token(GatewaySettings(), kind=kind, subject=subject)
    return {"Authorization": f"Bearer {token}"}


async def _bench(gateway_url: str, arguments: argparse.Namespace) -> None:
    connector = _bearer(CallerKind.SERVICE, "community-connector")
    pause = arguments.poll_ms / 1000
    loops, baselines = [], []
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as gateway:
        await _one(gateway, connector, pause)  # warm connections, consumers and caches
        for _ in range(arguments.posts):
            loop, baseline = await _one(gateway, connector, pause)
            loops.append(loop)
            baselines.append(baseline)
    _report(loops, baselines, arguments)


async def _one(gateway: httpx.AsyncClient, connector: dict, pause: float) -> tuple[float, float]:
    """One complaint from a new owner: (post to visible case, post plus one read) in seconds."""
    owner_id = str(uuid.uuid4())
    owner = _bearer(CallerKind.OWNER, owner_id)
    began = time.perf_counter()
    await _post(gateway, connector, owner_id)
    posted = time.perf_counter()
    first_read = await _case_shows(gateway, owner, owner_id, pause)
    return time.perf_counter() - began, posted - began + first_read


async def _post(gateway: httpx.AsyncClient, connector: dict, owner_id: str) -> None:
    item = {
        "source": "community",
        "source_id": f"bench-{uuid.uuid4().hex}",
        "body": COMPLAINT,
        "owner_id": owner_id,
        "published_at": datetime.now(UTC).isoformat(),
    }
    response = await gateway.post(
        "/v1/feedback/posts/batches", json={"posts": [item]}, headers=connector
    )
    result = response.raise_for_status().json()
    if result["flagged"] != 1:
        raise SystemExit(f"the complaint was not flagged, so no case follows: {result}")


async def _case_shows(
    gateway: httpx.AsyncClient, owner: dict, owner_id: str, pause: float
) -> float:
    """Reads the owner's cases, as the owner, until one is there (the owner is new: it is the
    case opened from their post); returns the first read's round trip."""
    first_read = None
    deadline = time.perf_counter() + GIVE_UP_SECONDS
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        response = await gateway.get(
            "/v1/tickets/tickets", params={"owner_id": owner_id}, headers=owner
        )
        items = response.raise_for_status().json()["items"]
        if first_read is None:
            first_read = time.perf_counter() - began
        if items:
            return first_read
        await asyncio.sleep(pause)
    raise SystemExit(f"no case for owner {owner_id} within {GIVE_UP_SECONDS} s")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _report(loops: list[float], baselines: list[float], arguments: argparse.Namespace) -> None:
    figures = {
        name: {"p50_ms": _percentile(values, 0.5) * 1e3, "p95_ms": _percentile(values, 0.95) * 1e3}
        for name, values in (("closed_loop", loops), ("baseline", baselines))
    }
    loop, baseline = figures["closed_loop"], figures["baseline"]
    print(f"closed loop bench: {os.cpu_count()} CPUs, every service running, {len(loops)} "
          f"complaints, one at a time, reads every {arguments.poll_ms} ms; {_load()}")  # fmt: skip
    print(f"post to visible case:          p50 {loop['p50_ms']:8.1f} ms, "
          f"p95 {loop['p95_ms']:8.1f} ms")  # fmt: skip
    print(f"baseline, the post + one read: p50 {baseline['p50_ms']:8.1f} ms, "
          f"p95 {baseline['p95_ms']:8.1f} ms")  # fmt: skip
    ratio = loop["p50_ms"] / baseline["p50_ms"]
    print(f"ratio closed loop / baseline at the median: {ratio:.1f}x "
          f"(mean {statistics.mean(loops) * 1e3:.1f} ms)")  # fmt: skip
    summary.record(posts=len(loops), poll_ms=arguments.poll_ms, ratio_p50=ratio, **figures)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"
