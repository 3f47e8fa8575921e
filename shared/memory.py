"""The garbage collector, tuned for a long-running service that allocates in bursts.

A request or a pass of a worker makes thousands of short-lived objects (decoded rows,
tuples for COPY, datetimes). CPython's default gen-0 threshold (700 allocations) then runs
a collection every few hundred of them, and every tenth of those promotes survivors until a
full collection walks the whole heap, the libraries' objects included (measured here with
the collector's callbacks: 4.5% of the telematics derivation process's CPU). So, once the
process has started:

- what exists then (modules, the app, pools, caches) is frozen out of every collection;
- gen 0 is collected after 50,000 allocations, not 700. Objects are still freed by their
  reference counts at once; only cycles wait longer, and they are few.

Once per process: a process that starts several apps (the tests) freezes only the first's.
"""

import gc

YOUNG_THRESHOLD = 50_000


def settle_after_start() -> None:
    """Call once the process has loaded and built what it keeps for its lifetime."""
    if gc.get_threshold()[0] == YOUNG_THRESHOLD:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
