"""Per-caller token buckets, in this process's memory.

Each caller may burst up to `burst` requests and is refilled at `rate` per second.
"""

import math
import time

MAX_BUCKETS = 100_000


class TokenBuckets:
    def __init__(self, *, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, updated at)

    def take(self, caller: str, now: float | None = None) -> float:
        """Takes one token; returns 0 when allowed, else the seconds until one is free."""
        now = time.monotonic() if now is None else now
        tokens, updated = self._buckets.get(caller, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens < 1.0:
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / self.rate
        if len(self._buckets) >= MAX_BUCKETS:
            self._buckets.clear()  # forgetting buckets only ever lets callers through
        self._buckets[caller] = (tokens - 1.0, now)
        return 0.0


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
