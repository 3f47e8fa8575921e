"""The `cem` command as an operator runs it, against the test's servers."""

import asyncio
import os
import sys
from dataclasses import dataclass

from shared.config import CommonSettings


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


async def cem(settings: CommonSettings, nats_url: str, *args: str) -> Result:
    environment = {
        **os.environ,
        "CEM_ENVIRONMENT": settings.environment.value,
        "CEM_DATABASE_URL": settings.database_url,
        "CEM_DATABASE_PREFIX": settings.database_prefix,
        "CEM_NATS_URL": nats_url,
        "COLUMNS": "250",  # rich wraps tables to the terminal; keep rows whole
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    return Result(process.returncode, stdout.decode(), stderr.decode())
