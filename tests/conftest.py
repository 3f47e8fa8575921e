"""Real PostgreSQL and real NATS for the whole suite.

`CEM_DATABASE_URL` / `CEM_NATS_URL` point the suite at existing servers; otherwise it
starts its own from the wheels, in a temporary folder. Each session uses fresh databases
under a unique prefix.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from cli.launcher import Platform, components
from shared.config import CommonSettings, Environment
from tests.simulator.fleet import Runs, run_twice


@dataclass
class Infrastructure:
    database_url: str
    nats_url: str
    database_prefix: str
    # Handles to the servers the suite started itself (None when given by environment).
    postgres: EmbeddedPostgres | None = field(default=None, repr=False)
    nats: EmbeddedNats | None = field(default=None, repr=False)

    def settings(self) -> CommonSettings:
        return CommonSettings(
            environment=Environment.TEST,
            database_url=self.database_url,
            nats_url=self.nats_url,
            database_prefix=self.database_prefix,
        )

    def environment(self) -> dict[str, str]:
        return {
            "CEM_ENVIRONMENT": Environment.TEST.value,
            "CEM_DATABASE_URL": self.database_url,
            "CEM_NATS_URL": self.nats_url,
            "CEM_DATABASE_PREFIX": self.database_prefix,
        }

    def isolated(self, nats_url: str) -> "Infrastructure":
        """The same PostgreSQL server under a prefix of its own, on another broker: processes
        started with it never compete with the in-process services for events or rows."""
        return Infrastructure(self.database_url, nats_url, f"{self.database_prefix}_p")


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory) -> Iterator[Infrastructure]:
    folder = tmp_path_factory.mktemp("infrastructure")
    postgres = nats = None
    database_url = os.environ.get("CEM_DATABASE_URL")
    if not database_url:
        postgres = EmbeddedPostgres(folder / "postgres", durable=False).start()
        database_url = postgres.url
    nats_url = os.environ.get("CEM_NATS_URL")
    if not nats_url:
        nats = EmbeddedNats(folder / "nats").start()
        nats_url = nats.url
    infrastructure = Infrastructure(
        database_url, nats_url, f"cemtest_{uuid.uuid4().hex[:8]}", postgres=postgres, nats=nats
    )
    try:
        yield infrastructure
    finally:
        if postgres is None:
            asyncio.run(_drop_databases(database_url, infrastructure.database_prefix))
        for server in (nats, postgres):
            if server is not None:
                server.stop()


async def _drop_databases(server_url: str, prefix: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{prefix}\\_%"
        )
        for row in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
def private_nats(tmp_path) -> Iterator[EmbeddedNats]:
    """A broker of the test's own, which it may kill and restart (same port, same store)."""
    with EmbeddedNats(tmp_path / "private-nats") as nats:
        yield nats


@pytest.fixture(scope="session")
def platform(infrastructure, tmp_path_factory) -> Iterator[Platform]:
    """Every service and the gateway as separate processes, as `make run` starts them, with a
    broker and databases of their own."""
    folder = tmp_path_factory.mktemp("platform")
    ports = {component.name: free_port() for component in components()}
    with EmbeddedNats(folder / "nats") as nats:
        own = infrastructure.isolated(nats.url)
        environment = {
            **own.environment(),
            "CEM_LOG_LEVEL": "WARNING",
            # An SLA timer fires within a second of falling due (e2e waits for real breaches).
            "CEM_SLA_POLL_SECONDS": "1",
        }
        platform = Platform(folder, ports=ports, environment=environment, echo=False)
        with platform:
            yield platform


@pytest.fixture(scope="session")
async def fleet(platform) -> AsyncIterator[asyncio.Task[Runs]]:
    """The simulator's fleet on the platform (tests/simulator/fleet.py), loading in the
    background from the first request on, so a test's own setup goes on meanwhile: await it."""
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gateway:
        loading = asyncio.create_task(run_twice(gateway))
        yield loading
        if not loading.done():
            loading.cancel()
        await asyncio.gather(loading, return_exceptions=True)
