"""The CPU time each part of the platform spends while a round runs. On a shared machine the
rate swings with everyone else's load; what a batch costs in CPU is the steadier figure, and
says where the time goes."""

import psutil

from cli.launcher import Platform

PARTS = ("gateway", "telematics")
OTHERS = "other services"  # profile, feedback, tickets, journeys: the derived events' consumers


class CpuMeter:
    def __init__(self, platform: Platform) -> None:
        self.processes = {
            name: psutil.Process(process.pid) for name, process in platform.processes.items()
        }
        # The embedded server's postmaster (its backends are its children); none when the
        # platform runs on an external PostgreSQL.
        self.postmaster = None
        if platform.postgres is not None:
            pid_file = platform.postgres.data_dir / "postmaster.pid"
            self.postmaster = psutil.Process(int(pid_file.read_text().split()[0]))

    def read(self) -> dict[str, float]:
        """CPU seconds so far, per part, children included (telematics' derivation child)."""
        seconds = {name: 0.0 for name in (*PARTS, OTHERS)}
        for name, process in self.processes.items():
            seconds[name if name in PARTS else OTHERS] += _tree_cpu(process)
        if self.postmaster is not None:
            seconds["postgres"] = _tree_cpu(self.postmaster)
        return seconds


def _tree_cpu(root: psutil.Process) -> float:
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # a backend that ended meanwhile
            continue
        total += times.user + times.system
    return total


def per_batch(before: dict[str, float], after: dict[str, float], batches: int) -> dict:
    """Milliseconds of CPU per batch, per part."""
    return {name: 1000 * (after[name] - before[name]) / batches for name in after}
