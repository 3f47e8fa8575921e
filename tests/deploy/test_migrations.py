"""Each migration Job's command, run as the Job runs it, twice, against real PostgreSQL."""

import asyncio
import os
import secrets
import subprocess
import sys

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from cli.launcher import components
from shared.config import CommonSettings
from shared.migrations import alembic_config
from tests.deploy.conftest import ROOT, of_kind


def _job_environment(objects: list[dict], component: str, database_url: str, prefix: str) -> dict:
    """The ConfigMaps the Job reads, with the test's server and stand-ins for the Secrets."""
    config_maps = {
        c["metadata"]["name"]: c.get("data") or {} for c in of_kind(objects, "ConfigMap")
    }
    return {
        "PATH": os.environ["PATH"],
        **config_maps["cem-common"],
        **config_maps[f"{component}-config"],
        "CEM_DATABASE_URL": database_url,
        "CEM_DATABASE_PREFIX": prefix,
        "CEM_INTERNAL_SECRET": secrets.token_hex(32),
    }


async def _current_revision(settings: CommonSettings, component: str) -> str:
    connection = await asyncpg.connect(
        settings.database_url, database=settings.database_name(component)
    )
    try:
        return await connection.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()


@pytest.mark.parametrize("component", components(), ids=lambda c: c.name)
def test_the_migration_job_migrates_its_database_to_head_and_is_safe_to_run_twice(
    component, rendered, infrastructure
):
    objects = rendered("prod")
    (job,) = [
        job
        for job in of_kind(objects, "Job")
        if job["metadata"]["labels"]["app.kubernetes.io/name"] == component.name
    ]
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[0] == "python"
    prefix = f"{infrastructure.database_prefix}_deploy"
    environment = _job_environment(objects, component.name, infrastructure.database_url, prefix)
    for attempt in ("first", "second"):
        result = subprocess.run(
            [sys.executable, *command[1:]],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, f"{attempt} run failed:\n{result.stderr[-3000:]}"
    settings = CommonSettings(database_url=infrastructure.database_url, database_prefix=prefix)
    head = ScriptDirectory.from_config(
        alembic_config(component.name, component.migrations_dir, settings)
    ).get_current_head()
    assert asyncio.run(_current_revision(settings, component.name)) == head
