"""Telematics ingestion through the gateway against raw asyncpg COPY, and the quality analysis.

Starts the platform as `make run` does (every service and the gateway; the configured
PostgreSQL and NATS, else embedded ones), registers vehicles through profile's events, then:

1. COPYs rows like those the rounds send (as many) with asyncpg into a plain table of the
   same shape on the same server, in 1,000-row and 10,000-row batches, as the baseline
   (first, while the platform is idle);
2. posts pre-encoded 1,000-sample JSON batches to `POST /v1/telematics/signals` through the
   gateway with a vehicle-gateway (service) token: a warm-up round that is not measured,
   then a round (a million samples by default, long enough that derivation's work falls
   inside it rather than after it) at each concurrency, and reports samples
   per second and the p50/p99 latency of a batch (every response is checked: all accepted),
   then a round of 10,000-sample batches; prints the ratios to the baseline, and how long
   after the last batch the derivation worker has caught up;
3. fills the telematics database with a synthetic fleet (100,000 vehicles, one component in
   10 batches, one of them faulty past 20,000 km) and times the quality analysis run through
   the gateway (`POST /v1/telematics/quality/analyses`), loading included.

Prints its figures; asserts nothing.

    python -m bench.telematics [--batches 1000] [--concurrency 4 16] [--vehicles 100000]
"""

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg

from bench import summary
from bench.launch import started_platform
from bench.telematics import cpu, fleet
from cli.launcher import Platform
from gateway.config import GatewaySettings
from gateway.tokens import mint_development_token
from services.telematics.catalogue import ROW_COLUMNS
from services.telematics.codec import KnownVehicle, decode_batch, time_window, to_rows
from shared.auth import CallerKind, StaffRole

BATCH = 1_000
WARM_UP_BATCHES = 100


def main() -> None:
    arguments = _arguments()
    with started_platform() as platform:
        asyncio.run(_bench(platform, arguments))
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=1_000, help="1,000-sample batches per round")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--senders", type=int, default=200, help="vehicles sending signals")
    parser.add_argument("--vehicles", type=int, default=100_000, help="fleet for the analysis")
    summary.add_option(parser)
    return parser.parse_args()


def _token(kind: CallerKind, *roles: StaffRole) -> str:
    return mint_development_token(GatewaySettings(), kind=kind, subject="bench", roles=roles)


async def _bench(platform: Platform, arguments) -> None:
    environment = platform.environment
    database = f"{environment['CEM_DATABASE_URL'].rsplit('/', 1)[0]}/{_prefix(platform)}_telematics"
    vehicles = await fleet.register_senders(
        environment["CEM_NATS_URL"], database, arguments.senders
    )
    print(f"telematics bench: {os.cpu_count()} CPUs, every service running, {len(vehicles)} "
          f"vehicles sending, {BATCH:,}-sample batches; {_load()}")  # fmt: skip
    start = datetime.now(UTC) - timedelta(days=2)
    # The baseline first, while the platform is idle (no derivation backlog to compete with).
    raw = await _raw_copy(environment["CEM_DATABASE_URL"], vehicles, start, arguments.batches)
    await _warm_up(platform.gateway_url, database, vehicles, start, min(arguments.concurrency))
    rounds = {}
    meter = cpu.CpuMeter(platform)
    for index, connections in enumerate(arguments.concurrency):
        # Each round sends new seconds, so every sample is accepted (no duplicates).
        round_start = start + timedelta(hours=6 * index)
        bodies = fleet.batches(vehicles, round_start, arguments.batches, BATCH)
        rounds[connections] = await _metered(meter, platform.gateway_url, bodies, connections)
        _print_round(connections, rounds[connections], arguments.batches)
    large = await _large_batches(platform, vehicles, start, arguments)
    _print_comparison(rounds, raw)
    summary.record(
        ingest={
            c: {"samples_per_second": m["samples"] / m["seconds"], "cpu_ms_per_batch": m["cpu"]}
            for c, m in rounds.items()
        },
        ingest_10000={"samples_per_second": large["samples"] / large["seconds"]},
        raw_copy_rows_per_second=raw,
        derivation_drained_seconds=await _derivation_drained(database),
    )
    await _quality(platform, database, arguments.vehicles)
    print(f"at the end: {_load()}")


async def _warm_up(gateway_url: str, database: str, vehicles, start: datetime, connections: int):
    """A round that is not measured (each ingestion connection's first COPY, the month's
    partition, derivation's first sweep), then derivation left to catch up: the rounds
    measure the steady state."""
    bodies = fleet.batches(vehicles, start - timedelta(hours=6), WARM_UP_BATCHES, BATCH)
    await _post_all(gateway_url, bodies, connections)
    await _derivation_drained(database, quiet=True)


async def _large_batches(platform: Platform, vehicles, start: datetime, arguments) -> dict:
    """10,000-sample batches (about 4 MiB: over the gateway's default body limit, within
    telematics' own), at the lowest concurrency."""
    connections = min(arguments.concurrency)
    count = max(arguments.batches // 10, 4)
    bodies = fleet.batches(vehicles, start + timedelta(days=1, hours=6), count, 10 * BATCH)
    measured = await _post_all(platform.gateway_url, bodies, connections)
    print("10,000-sample batches:", end=" ")
    _print_round(connections, measured, count)
    return measured


async def _derivation_drained(database: str, *, quiet: bool = False) -> float:
    """Seconds from the last batch until the derivation worker has caught up with every
    vehicle (ingestion must not merely pile up work)."""
    began = time.perf_counter()
    connection = await asyncpg.connect(database)
    try:
        while True:
            if not await connection.fetchval("SELECT count(*) FROM derivation_cursors WHERE dirty"):
                break
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    drained = time.perf_counter() - began
    if not quiet:
        print(f"derivation caught up {drained:.1f} s after the last batch")
    return drained


def _load() -> str:
    """Other work on the machine skews every figure: say how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def _prefix(platform: Platform) -> str:
    return platform.environment["CEM_DATABASE_PREFIX"]


async def _metered(meter: cpu.CpuMeter, gateway_url: str, bodies: list[bytes], connections: int):
    before = meter.read()
    measured = await _post_all(gateway_url, bodies, connections)
    measured["cpu"] = cpu.per_batch(before, meter.read(), len(bodies))
    return measured


async def _post_all(gateway_url: str, bodies: list[bytes], connections: int) -> dict:
    headers = {
        "Authorization": f"Bearer {_token(CallerKind.SERVICE)}",
        "Content-Type": "application/json",
    }
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    accepted = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(gateway_url, connector=connector, headers=headers) as http:

        async def sender() -> None:
            nonlocal accepted
            while not queue.empty():
                body = queue.get_nowait()
                began = time.perf_counter()
                async with http.post("/v1/telematics/signals", data=body) as response:
                    result = await response.json()
                    if response.status != 200 or result["rejected"] or result["duplicates"]:
                        raise RuntimeError(f"batch not fully accepted: {result}")
                latencies.append(time.perf_counter() - began)
                accepted += result["accepted"]

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return {"samples": accepted, "seconds": elapsed, "latencies": sorted(latencies)}


def _percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def _print_round(connections: int, measured: dict, batches: int) -> None:
    rate = measured["samples"] / measured["seconds"]
    print(
        f"gateway  conc {connections:>3}: {measured['samples']:>9,} samples in "
        f"{measured['seconds']:6.2f} s = {rate:>9,.0f} samples/s; batch p50 "
        f"{_percentile(measured['latencies'], 0.5) * 1e3:6.1f} ms, p99 "
        f"{_percentile(measured['latencies'], 0.99) * 1e3:6.1f} ms ({batches} batches)"
    )
    if "cpu" in measured:
        parts = ", ".join(f"{name} {ms:.1f}" for name, ms in measured["cpu"].items())
        print(f"    CPU ms per batch: {parts} (telematics with its derivation child)")


async def _raw_copy(server_url: str, vehicles, start: datetime, batches: int) -> dict[int, float]:
    """The same rows (decoded and checked by the service's own codec), COPYed straight into a
    plain table of the same columns, with no checks, merge or index maintenance beyond one
    (vehicle, time) index."""
    bodies = fleet.batches(vehicles, start + timedelta(days=1), batches, BATCH)
    known = {vehicle.vin: KnownVehicle(vehicle.vehicle_id, True) for vehicle in vehicles}
    earliest, latest = time_window(datetime.now(UTC), max_age_days=400, max_future_seconds=300)
    records = [
        record
        for body in bodies
        for record in to_rows(
            decode_batch(body, "application/json", max_samples=BATCH),
            known,
            earliest=earliest,
            latest=latest,
        ).records
    ]
    connection = await asyncpg.connect(server_url)
    rates = {}
    try:
        for size in (BATCH, 10 * BATCH):
            await connection.execute(fleet.RAW_TABLE_DDL)
            began = time.perf_counter()
            for offset in range(0, len(records), size):
                await connection.copy_records_to_table(
                    "bench_raw_signals",
                    records=records[offset : offset + size],
                    columns=ROW_COLUMNS,
                )
            rates[size] = len(records) / (time.perf_counter() - began)
            print(f"raw COPY {size:>6,}-row batches: {rates[size]:>9,.0f} rows/s")
    finally:
        await connection.execute("DROP TABLE IF EXISTS bench_raw_signals")
        await connection.close()
    return rates


def _print_comparison(rounds: dict, raw: dict[int, float]) -> None:
    for connections, measured in rounds.items():
        rate = measured["samples"] / measured["seconds"]
        print(
            f"gateway conc {connections:>3} / raw COPY: {rate / raw[BATCH]:.2f}x of 1,000-row "
            f"batches, {rate / raw[10 * BATCH]:.2f}x of 10,000-row batches "
            f"(target: 0.20x of 10,000-row batches and >= 100,000 samples/s)"
        )


async def _quality(platform: Platform, database: str, vehicles: int) -> None:
    began = time.perf_counter()
    await fleet.fill_quality_fleet(database, vehicles)
    print(f"quality fleet: {vehicles:,} vehicles, 10 batches, filled in "
          f"{time.perf_counter() - began:.1f} s")  # fmt: skip
    headers = {"Authorization": f"Bearer {_token(CallerKind.STAFF, StaffRole.QUALITY_ENGINEER)}"}
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(
        platform.gateway_url, headers=headers, timeout=timeout
    ) as http:
        for attempt in (1, 2):
            began = time.perf_counter()
            async with http.post("/v1/telematics/quality/analyses") as response:
                report = await response.json()
            elapsed = time.perf_counter() - began
            alerts = [(a["batch_code"], round(a["threshold_km"]), round(a["rate_ratio"], 1))
                      for a in report.get("alerts", [])]  # fmt: skip
            print(
                f"quality analysis run {attempt}: {elapsed:.2f} s through the gateway "
                f"(status {response.status}; {report.get('batches_tested')} batches tested; "
                f"alerts {alerts}; target < 10 s)"
            )
            summary.FIGURES.setdefault("quality", {"vehicles": vehicles, "seconds": []})
            summary.FIGURES["quality"]["seconds"].append(elapsed)


if __name__ == "__main__":
    main()
