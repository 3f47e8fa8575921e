"""Gateway overhead: one authenticated read, direct to profile and through the gateway.

Starts the platform as `make run` does (the configured PostgreSQL and NATS, else embedded
ones), registers a dealer and issues it an API key, then alternates rounds of the same read
(`GET /v1/profile/dealers/{id}` as that dealer) direct to profile (with the caller token the
gateway would forward) and through the gateway (with the API key, rate limiting on), at each
concurrency. Prints medians over the rounds; asserts nothing.

    python -m bench.gateway [--seconds 5] [--rounds 3] [--concurrency 1 32]
"""

import argparse
import os
import statistics
import time
import uuid
from pathlib import Path

import httpx

from bench import summary as figures
from bench.gateway import wrk
from bench.launch import started_platform
from cli.launcher import Platform
from gateway.config import GatewaySettings
from gateway.tokens import mint_development_token
from shared.auth import CALLER_HEADER, Caller, CallerKind, StaffRole, sign_caller

TARGETS = ("direct", "gateway")


def main() -> None:
    arguments = _arguments()
    wrk.require_wrk()
    with started_platform() as platform:
        reads = _prepare_reads(platform)
        _print_header(arguments)
        for connections in arguments.concurrency:
            results = _measure(platform, reads, connections, arguments)
            _print_results(connections, results)
    figures.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per target")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    figures.add_option(parser)
    return parser.parse_args()


def _prepare_reads(platform: Platform) -> dict[str, tuple[str, dict[str, str]]]:
    """The same read for each target: URL and headers."""
    settings = GatewaySettings()
    admin = mint_development_token(
        settings, kind=CallerKind.STAFF, subject="bench@cem", roles=(StaffRole.ADMIN,)
    )
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {admin}"
        created = client.post(
            "/v1/profile/dealers",
            json={"code": "BENCH", "name": "Bench Motors", "city": "Shanghai", "region": "East"},
        )
        created.raise_for_status()
        dealer_id = created.json()["id"]
        api_key = _issue_key_once_known(client, dealer_id)
    path = f"/v1/profile/dealers/{dealer_id}"
    caller = Caller(kind=CallerKind.DEALER, subject=dealer_id, dealer_id=uuid.UUID(dealer_id))
    internal = sign_caller(caller, settings.internal_secret.get_secret_value(), ttl_seconds=3600)
    return {
        "direct": (platform.url("profile") + path, {CALLER_HEADER: internal}),
        "gateway": (platform.gateway_url + path, {"X-API-Key": api_key}),
    }


def _issue_key_once_known(client: httpx.Client, dealer_id: str) -> str:
    """The gateway learns the dealer from profile's event; until then it answers 404."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.post(f"/v1/gateway/dealers/{dealer_id}/keys")
        if response.status_code == 201:
            return response.json()["key"]
        time.sleep(0.2)
    raise RuntimeError(f"the gateway never learnt dealer {dealer_id}: {response.text}")


def _measure(platform, reads, connections: int, arguments) -> dict[str, list]:
    gateway_pid = platform.processes["gateway"].pid
    for url, headers in reads.values():  # warm pools and caches
        wrk.run(url, headers, connections=connections, seconds=1)
    results: dict[str, list] = {target: [] for target in TARGETS}
    for _ in range(arguments.rounds):
        for target in TARGETS:
            url, headers = reads[target]
            cpu_before = _cpu_seconds(gateway_pid)
            measured = wrk.run(url, headers, connections=connections, seconds=arguments.seconds)
            gateway_cpu = _cpu_seconds(gateway_pid) - cpu_before
            results[target].append((measured, gateway_cpu))
    return results


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _print_header(arguments) -> None:
    print(
        f"gateway bench: {os.cpu_count()} CPUs, wrk -t1, {arguments.rounds} alternating rounds "
        f"of {arguments.seconds} s per target; medians over rounds"
    )
    print(
        f"{'conc':>4} {'target':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'gw CPU us/req':>14} {'errors':>7}"
    )


def _print_results(connections: int, results: dict[str, list]) -> None:
    summary = {target: _summarise(rounds) for target, rounds in results.items()}
    for target, row in summary.items():
        print(
            f"{connections:>4} {target:>8} {row['rps']:>9.0f} {row['p50'] * 1e3:>8.3f} "
            f"{row['p99'] * 1e3:>8.3f} {row['cpu_per_request'] * 1e6:>14.0f} {row['errors']:>7}"
        )
    direct, gateway = summary["direct"], summary["gateway"]
    paired = _paired_added_p50(results)
    print(
        f"{connections:>4}  through/direct throughput {gateway['rps'] / direct['rps']:.2f}x, "
        f"added at the median {(gateway['p50'] - direct['p50']) * 1e3:.3f} ms "
        f"(round by round: {paired * 1e3:.3f} ms)"
    )
    figures.record(**{f"c{connections}": _summary_row(direct, gateway, paired)})


def _paired_added_p50(results: dict[str, list]) -> float:
    """The median of each round's gateway p50 less the direct p50 measured just before it:
    on a shared machine whose load drifts between rounds, steadier than the difference of
    the two medians."""
    return statistics.median(
        through.p50 - direct.p50
        for (direct, _), (through, _) in zip(results["direct"], results["gateway"], strict=True)
    )


def _summary_row(direct: dict, gateway: dict, paired: float) -> dict:
    return {
        "direct": direct,
        "gateway": gateway,
        "throughput_ratio": gateway["rps"] / direct["rps"],
        "added_p50_ms": (gateway["p50"] - direct["p50"]) * 1e3,
        "added_p50_paired_ms": paired * 1e3,
    }


def _summarise(rounds: list) -> dict[str, float]:
    measured = [round_ for round_, _ in rounds]
    return {
        "rps": statistics.median(r.per_second for r in measured),
        "p50": statistics.median(r.p50 for r in measured),
        "p99": statistics.median(r.p99 for r in measured),
        "cpu_per_request": statistics.median(cpu / r.requests for r, cpu in rounds),
        "errors": sum(r.errors for r in measured),
    }


if __name__ == "__main__":
    main()
