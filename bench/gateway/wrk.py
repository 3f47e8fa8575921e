"""Drives load with wrk (a C load generator: little CPU taken from the 2 cores measured)."""

import re
import shutil
import subprocess
from dataclasses import dataclass

INSTALL_HINT = "wrk is needed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class Round:
    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    errors: int  # non-2xx responses and socket errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(INSTALL_HINT)
    return path


def run(url: str, headers: dict[str, str], *, connections: int, seconds: int) -> Round:
    command = [require_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse(output)


def parse(output: str) -> Round:
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if done is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return Round(
        requests=int(done.group(1)),
        seconds=float(done.group(2)) * _UNITS[done.group(3)],
        p50=_percentile(output, "50"),
        p99=_percentile(output, "99"),
        errors=_errors(output),
    )


def _percentile(output: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no {which}th percentile in wrk output:\n{output}")
    return float(found.group(1)) * _UNITS[found.group(2)]


_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def _errors(output: str) -> int:
    non_2xx = _NON_2XX.search(output)
    socket = _SOCKET_ERRORS.search(output)
    return (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(count) for count in socket.groups()) if socket else 0
    )
