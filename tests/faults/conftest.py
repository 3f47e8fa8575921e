"""Fault tests: servers killed and restarted under the services' feet.

Each runs in well under half a minute here; `CEM_FAULTS_LARGE=1` runs the larger variants
(more events, more kills) that a release should pass too.
"""

import os
from collections.abc import Iterator

import pytest

from cli.embedded import EmbeddedPostgres
from shared.config import CommonSettings

LARGE = os.environ.get("CEM_FAULTS_LARGE") == "1"


def scaled(small: int, large: int) -> int:
    return large if LARGE else small


@pytest.fixture
def settings(infrastructure) -> CommonSettings:
    return infrastructure.settings()


@pytest.fixture
def private_postgres(tmp_path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of the test's own, which it may stop and start (same port)."""
    with EmbeddedPostgres(tmp_path / "private-postgres", durable=False) as postgres:
        yield postgres
