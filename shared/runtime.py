"""The process around a service: app, database, NATS, outbox relay and event consumers.

Every service's `main.create_app()` calls `build_service_app()`, so all services start,
report readiness and shut down the same way. Shutdown, on SIGTERM: readiness turns 503 and
requests arriving from then on are refused with a retryable 503 (`x-cem-draining`: nothing
was done, so a gateway may send them to another replica); uvicorn closes the listener and
lets the requests in hand finish; then the relay publishes what they committed and the
consumers finish the event in hand (the rest go back to the broker), and only then are the
other loops cancelled and NATS and the pool closed.
"""

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial

import structlog
from fastapi import APIRouter, FastAPI, Response
from nats.aio.client import Client
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth import CallerVerifier
from shared.config import Role, ServiceSettings
from shared.database import Database, application_url
from shared.http import RequestContextMiddleware, install_problem_handlers, problem_response
from shared.idempotency.claims import IdempotentAnswers, purge_old_answers
from shared.memory import settle_after_start
from shared.messaging.broker import connect, ensure_stream
from shared.messaging.consumer import ConsumerSettings, EventConsumer, Subscription
from shared.messaging.housekeeping import prune_forever
from shared.messaging.outbox import OutboxRelay
from shared.observability import configure_logging
from shared.scoping import set_application_scoping

log = structlog.get_logger("runtime")

CLOSE_TIMEOUT_SECONDS = 5.0
# How long the relay and consumers get to finish the work in hand before they are cancelled.
WORKER_STOP_SECONDS = 3.0
# The longest `ServiceRuntime.stop()` takes: the workers, a NATS flush and close, the pool.
STOP_SECONDS = WORKER_STOP_SECONDS + 2 * CLOSE_TIMEOUT_SECONDS + 2
RESTART_DELAY_SECONDS = 1.0
# On a 503 refused while draining: the request was not handled, so any method may be retried.
DRAINING_HEADER = "x-cem-draining"
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

TASK_RESTARTS = Counter(
    "cem_background_task_restarts_total",
    "Background tasks (relay, consumers, timers) started again after they ended",
    ["service", "task"],
)

# A service's own background loop (e.g. durable timers), started with the other workers.
Worker = Callable[[Database], Coroutine[None, None, None]]


@dataclass
class ServiceRuntime:
    service: str
    settings: ServiceSettings
    subscriptions: Sequence[Subscription]
    produces_events: bool
    workers: Sequence[Worker] = ()
    database: Database = field(init=False)
    nats: Client | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    # Set by SIGTERM (or `stop()`): readiness turns 503 and new requests are refused.
    draining: bool = False
    # The loops that finish their work in hand when asked (`stop()`); the rest are cancelled.
    _finishing: dict[asyncio.Task, Callable[[], None]] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.database = Database(
            application_url(self.settings, self.service),
            pool_size=self.settings.database_pool_size,
        )

    async def start(self) -> None:
        self.nats = await connect(self.settings.nats_url, name=self.service)
        if self.produces_events:
            await ensure_stream(self.nats, self.service, replicas=self.settings.stream_replicas)
        if self.settings.role in (Role.ALL, Role.WORKER):
            self._start_workers()

    def _start_workers(self) -> None:
        assert self.nats is not None
        self._start("housekeeping", lambda: prune_forever(self.database))
        if self.produces_events:
            relay = OutboxRelay(
                service=self.service,
                database=self.database,
                jetstream=self.nats.jetstream(),
                interval_seconds=self.settings.relay_interval_seconds,
            )
            self._start("outbox-relay", relay.run, stop=relay.stop)
        if self.subscriptions:
            consumer = EventConsumer(
                service=self.service,
                database=self.database,
                client=self.nats,
                subscriptions=list(self.subscriptions),
                settings=ConsumerSettings(
                    batch=self.settings.consumer_batch,
                    max_deliver=self.settings.consumer_max_deliver,
                ),
            )
            self._start("event-consumer", consumer.run, stop=consumer.stop)
        for number, worker in enumerate(self.workers):
            self._start(f"service-worker-{number}", partial(worker, self.database))

    def _start(
        self,
        name: str,
        run: Callable[[], Coroutine[None, None, None]],
        *,
        stop: Callable[[], None] | None = None,
    ) -> None:
        supervised = supervise(run, service=self.service, task=name, stopping=self._stopping)
        task = asyncio.create_task(supervised, name=name)
        self.tasks.append(task)
        if stop is not None:
            self._finishing[task] = stop

    def begin_draining(self) -> None:
        """Safe to call from a signal handler: the log line is written by the loop."""
        if not self.draining:
            self.draining = True
            announce = partial(log.info, "service_draining", service=self.service)
            asyncio.get_running_loop().call_soon_threadsafe(announce)

    async def stop(self) -> None:
        """Runs after uvicorn has finished the requests in hand (see the module docstring)."""
        self.begin_draining()
        self._stopping.set()
        for task in self.tasks:
            if task in self._finishing:
                self._finishing[task]()
            else:
                task.cancel()  # timers and housekeeping: transactional, safe to interrupt
        if self.tasks:
            _, late = await asyncio.wait(self.tasks, timeout=WORKER_STOP_SECONDS)
            for task in late:
                log.warning("background_task_cancelled", service=self.service, task=task.get_name())
                task.cancel()
        for task in self.tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        if self.nats is not None and not self.nats.is_closed:
            # The workers are stopped, so nothing is left to drain but buffered publishes:
            # flush them, then close (`drain()` waits out its timeout on pull subscriptions).
            with suppress(Exception):
                await asyncio.wait_for(self.nats.flush(), CLOSE_TIMEOUT_SECONDS)
            with suppress(Exception):
                await asyncio.wait_for(self.nats.close(), CLOSE_TIMEOUT_SECONDS)
        await self.database.dispose()

    async def is_ready(self) -> dict[str, bool]:
        workers_alive = all(not task.done() for task in self.tasks)
        return {
            "serving": not self.draining,
            "database": await self.database.is_ready(),
            "nats": self.nats is not None and self.nats.is_connected,
            "workers": workers_alive,
        }


async def supervise(
    run: Callable[[], Coroutine[None, None, None]],
    *,
    service: str,
    task: str,
    restart_delay: float = RESTART_DELAY_SECONDS,
    stopping: asyncio.Event | None = None,
) -> None:
    """Runs a background loop for the life of the process. The loops retry their own
    failures; should one still end (an error it did not expect, or a return), the end is
    logged and counted and the loop started again, so no worker dies silently. A loop that
    returns once `stopping` is set has finished as asked."""
    while True:
        try:
            await run()
            if stopping is not None and stopping.is_set():
                return
            log.error("background_task_ended", service=service, task=task)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error("background_task_crashed", service=service, task=task, error=repr(error))
        TASK_RESTARTS.labels(service, task).inc()
        await asyncio.sleep(restart_delay)


def build_service_app(
    *,
    service: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    subscriptions: Sequence[Subscription] = (),
    produces_events: bool = True,
    workers: Sequence[Worker] = (),
    root_routers: Sequence[APIRouter] = (),
    own_docs: bool = True,
    idempotency_keys: bool = True,
    title: str,
    version: str = "1.0.0",
) -> FastAPI:
    """`root_routers` mount outside `/v1/<service>`; `own_docs=False` leaves `/docs` and
    `/openapi.json` free for a router that serves them (the gateway's merged docs);
    `idempotency_keys`: the database has the `idempotent_requests` of `shared.idempotency`."""
    configure_logging(level=settings.log_level, json=settings.log_json)
    set_application_scoping(settings.application_scoping)
    runtime = ServiceRuntime(
        service=service,
        settings=settings,
        subscriptions=subscriptions,
        produces_events=produces_events,
        workers=[*workers, purge_old_answers] if idempotency_keys else workers,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        restore_handlers = drain_on_termination(runtime.begin_draining)
        settle_after_start()
        log.info("service_started", service=service, role=settings.role)
        try:
            yield
        finally:
            await runtime.stop()
            restore_handlers()
            log.info("service_stopped", service=service)

    docs = {} if own_docs else {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(title=title, version=version, lifespan=lifespan, **docs)
    app.state.runtime = runtime
    app.state.database = runtime.database
    app.state.caller_verifier = CallerVerifier(settings.internal_secret.get_secret_value())
    install_problem_handlers(app)
    if idempotency_keys:  # innermost: it keeps the answer as the route gave it
        app.add_middleware(IdempotentAnswers, database=runtime.database)
    app.add_middleware(RefuseWhileDraining, runtime=runtime)  # inside: the response has an id
    app.add_middleware(RequestContextMiddleware, component=service)
    app.include_router(operations_router(runtime))
    for router in routers:
        app.include_router(router, prefix=f"/v1/{service}")
    for router in root_routers:
        app.include_router(router)
    return app


def drain_on_termination(begin_draining: Callable[[], None]) -> Callable[[], None]:
    """Has the server's own SIGTERM handler (uvicorn installs it before the lifespan starts)
    call `begin_draining` first, so readiness turns 503 the moment the signal arrives.
    Returns what puts the server's handler back. Without a server's handler (an app started
    by a test, or off the main thread) nothing is changed."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    server_handler = signal.getsignal(signal.SIGTERM)
    if not callable(server_handler):
        return lambda: None

    def on_sigterm(number: int, frame: object) -> None:
        begin_draining()
        server_handler(number, frame)

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, server_handler)

    return restore


class RefuseWhileDraining:
    """Once draining, a new request is answered 503 with `Retry-After` and `x-cem-draining`
    and its connection closed: it was not handled, so the caller may send it elsewhere.
    Requests already being handled finish; probes and metrics are still answered."""

    def __init__(self, app: ASGIApp, *, runtime: ServiceRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.runtime.draining and scope["type"] == "http" and scope["path"] not in PROBE_PATHS:
            refused = problem_response(
                503,
                "service_draining",
                f"The {self.runtime.service} service is shutting down; retry",
                headers={"Retry-After": "1", DRAINING_HEADER: "1", "Connection": "close"},
            )
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)


def operations_router(runtime: ServiceRuntime) -> APIRouter:
    """Probes and metrics for operators; not part of the public API."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def liveness() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readiness() -> Response:
        checks = await runtime.is_ready()
        if all(checks.values()):
            return Response('{"status":"ready"}', media_type="application/json")
        failing = ", ".join(name for name, ok in checks.items() if not ok)
        return problem_response(503, "not_ready", f"Not ready: {failing}")

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
