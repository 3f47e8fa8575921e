"""What every stage shares: the world, the gateway, credentials, ids the platform assigned,
progress and the tally that ends up in the summary."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from rich.progress import Progress, TaskID

from simulator.gateway import Credentials, Gateway
from simulator.world import World

T = TypeVar("T")


@dataclass
class Tally:
    """Per stage: counts of what happened, and why a stage was left out."""

    counts: dict[str, Counter] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage function

    def add(self, stage: str, **amounts: int) -> None:
        counter = self.counts.setdefault(stage, Counter())
        for name, amount in amounts.items():
            counter[name] += int(amount)


@dataclass
class Run:
    world: World
    gateway: Gateway
    credentials: Credentials
    progress: Progress
    sample_seconds: int
    settle_seconds: float
    tally: Tally = field(default_factory=Tally)
    dealer_ids: dict[int, str] = field(default_factory=dict)  # dealer index -> id
    owner_ids: dict[int, str] = field(default_factory=dict)  # owner index -> id
    issued_keys: list[str] = field(default_factory=list)

    def stage(self, description: str, total: float | None) -> TaskID:
        return self.progress.add_task(description, total=total)

    def skip(self, stage: str, reason: str) -> None:
        self.tally.skipped[stage] = reason
        self.progress.console.print(f"[yellow]skipped[/] {stage}: {reason}")

    async def offers(self, stage: str, *operations: str) -> bool:
        """Whether the platform has every operation the stage needs; says so when not."""
        missing = [
            operation
            for operation in operations
            if not await self.gateway.offers(*operation.split(" ", 1))
        ]
        if missing:
            self.skip(stage, f"the platform does not offer {', '.join(missing)} yet")
        return not missing


async def run_all(
    items: Iterable[T], work: Callable[[T], Awaitable[None]], *, workers: int
) -> None:
    """`work` on every item, at most `workers` at a time; the first failure stops the rest."""
    iterator = iter(items)

    async def worker() -> None:
        for item in iterator:
            await work(item)

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())


def chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def collect(iterator: AsyncIterator[T]) -> list[T]:
    return [item async for item in iterator]
