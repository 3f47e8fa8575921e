"""The platform as `make run` starts it, on free ports in a temporary folder, for benchmarks
that measure through the gateway."""

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.embedded import free_port
from cli.launcher import Platform, components

# Rate limiting stays on (every request takes a token) but never binds during a run.
UNBINDING_RATE_LIMIT = "1000000"


@contextmanager
def started_platform() -> Iterator[Platform]:
    """Every service and the gateway on the configured PostgreSQL and NATS, else embedded
    ones; a database prefix of its own; stopped and removed at the end."""
    with tempfile.TemporaryDirectory(prefix="cem-bench-") as folder:
        platform = Platform(
            Path(folder),
            ports={component.name: free_port() for component in components()},
            environment=environment(),
            echo=False,
            durable=False,
        )
        with platform:
            yield platform


def environment() -> dict[str, str]:
    return {
        "CEM_ENVIRONMENT": "local",
        "CEM_DATABASE_PREFIX": f"cembench_{uuid.uuid4().hex[:8]}",
        "CEM_LOG_LEVEL": "WARNING",
        "CEM_RATE_LIMIT_PER_SECOND": UNBINDING_RATE_LIMIT,
        "CEM_RATE_LIMIT_BURST": UNBINDING_RATE_LIMIT,
    }
