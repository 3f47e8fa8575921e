"""Small helpers every test module may use."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import ClassVar

import httpx
from sqlalchemy import text

from shared.auth import Caller, CallerKind, sign_caller
from shared.config import DEV_INTERNAL_SECRET
from shared.contracts.privacy import owner_data_exported_type
from shared.messaging.broker import connect, ensure_stream
from shared.messaging.envelope import Envelope, Event


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


class ServiceClient:
    """Calls a service in-process as a given caller (or as nobody), the way the gateway would:
    the caller signed into `x-cem-caller`, paths below the service's `/v1/<service>`."""

    service: ClassVar[str]

    def __init__(self, app, caller: Caller | None) -> None:
        headers = {"x-cem-caller": sign_caller(caller, DEV_INTERNAL_SECRET)} if caller else {}
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=f"http://{self.service}/v1/{self.service}",
            headers=headers,
        )

    def __getattr__(self, name):
        return getattr(self.http, name)


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


# Publishes an event (or a given envelope) as its producer's outbox relay would.
Publish = Callable[..., Awaitable[Envelope]]


@asynccontextmanager
async def event_publisher(
    nats_url: str, tested: str, streams: Iterable[str]
) -> AsyncIterator[Publish]:
    """Publishes other services' events to real NATS for the `tested` service, as their
    outbox relays would, into their streams (declared here, as their producers would).
    `msg_id` overrides the de-duplication id, to get a copy past the broker."""
    client = await connect(nats_url, name=f"{tested}-test-publisher")
    for service in streams:
        await ensure_stream(client, service)

    async def publish(
        event: Event | None = None, *, envelope: Envelope | None = None, msg_id=None
    ) -> Envelope:
        envelope = envelope or Envelope.wrap(event)
        await client.jetstream().publish(
            envelope.type,
            envelope.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(msg_id or envelope.id)},
        )
        return envelope

    try:
        yield publish
    finally:
        await client.close()


async def inbox_holds(app, consumer: str, *envelopes: Envelope) -> bool:
    """Whether a consumer's inbox holds every one of these events (so it has applied them)."""
    async with app.state.database.transaction() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM inbox WHERE consumer = :c AND event_id = ANY(:ids)"),
            {"c": consumer, "ids": [envelope.id for envelope in envelopes]},
        )
    return count == len(envelopes)


async def staff_exports_recorded(app, service: str, owner_id: uuid.UUID) -> list[tuple]:
    """Who exported the owner's data from `service` as staff, by what its outbox holds for
    profile's audit log: (actor, roles) of each `owner_data.exported` event, oldest first."""
    async with app.state.database.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT envelope->'data'->>'actor', envelope->'data'->'actor_roles' FROM outbox"
                " WHERE subject = :type AND envelope->'data'->>'owner_id' = :owner"
                " AND envelope->'data'->>'service' = :service ORDER BY seq"
            ),
            {"type": owner_data_exported_type(service).subject, "owner": str(owner_id),
             "service": service},
        )  # fmt: skip
        return [tuple(row) for row in rows]
