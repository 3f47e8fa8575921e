"""What the `cem` commands print, and how they fail: one red line and exit code 1."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console

from shared.errors import Forbidden

console = Console(highlight=False, soft_wrap=True)
# Messages for people go to stderr; stdout carries only what a script may capture (ids, keys).
notices = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    notices.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


@contextmanager
def readable_errors() -> Iterator[None]:
    """Turns the errors a user can cause or fix into one red line and exit code 1."""
    try:
        yield
    except ValidationError as error:
        reasons = (item["msg"].removeprefix("Value error, ") for item in error.errors())
        fail(f"Invalid settings: {'; '.join(reasons)}")
    except Forbidden as error:
        fail(error.detail)
    except httpx.TransportError as error:
        fail(f"Cannot reach the gateway ({error}). Is the platform running (`make run`)?")
