"""Small helpers every test module may use."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from shared.auth import Caller, CallerKind


async def eventually(
    predicate: Callable[[], Awaitable[bool]], *, within_seconds: float = 60.0
) -> None:
    """Waits until `predicate()` holds; event-driven effects arrive asynchronously."""
    deadline = asyncio.get_running_loop().time() + within_seconds
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached within {within_seconds} s")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def running(app) -> AsyncIterator[None]:
    """Runs an ASGI app's lifespan (startup, then shutdown) as a server would."""
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


class FakeClock:
    """The `now` a service reads, moved by the test: delays and deadlines need no waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


def dealer_group_caller(*dealers: Caller, group_id: uuid.UUID | None = None) -> Caller:
    """What the gateway forwards for a dealer group's key: the group's dealers, resolved there."""
    group_id = group_id or uuid.uuid4()
    return Caller(
        kind=CallerKind.DEALER,
        subject=f"dealer_group:{group_id}",
        dealer_group_id=group_id,
        group_dealer_ids=frozenset(dealer.dealer_id for dealer in dealers),
    )
