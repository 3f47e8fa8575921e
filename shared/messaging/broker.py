"""The NATS connection and the JetStream stream each producing service declares."""

import nats
import structlog
from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from shared.messaging.envelope import stream_name, stream_subjects

log = structlog.get_logger("broker")

DUPLICATE_WINDOW_SECONDS = 120
STREAM_MAX_AGE_SECONDS = 14 * 24 * 3600


async def connect(url: str, *, name: str) -> Client:
    """Connects and keeps reconnecting forever: a broker restart must not end the process."""

    async def on_disconnected() -> None:
        log.warning("nats_disconnected", client=name)

    async def on_reconnected() -> None:
        log.info("nats_reconnected", client=name)

    async def on_error(error: Exception) -> None:
        log.warning("nats_error", client=name, error=repr(error))

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        connect_timeout=5,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
        error_cb=on_error,
    )


def stream_config(service: str, *, replicas: int = 1) -> StreamConfig:
    """`replicas` is 3 on a JetStream cluster (CEM_STREAM_REPLICAS), 1 on a single server."""
    return StreamConfig(
        name=stream_name(service),
        subjects=stream_subjects(service),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=STREAM_MAX_AGE_SECONDS,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


async def ensure_stream(client: Client, service: str, *, replicas: int = 1) -> None:
    """Creates the service's stream, or brings an existing one to the current config."""
    jetstream = client.jetstream()
    config = stream_config(service, replicas=replicas)
    try:
        await jetstream.stream_info(config.name)
    except NotFoundError:
        try:
            await jetstream.add_stream(config)
            return
        except BadRequestError:
            pass  # created concurrently by another replica
    await jetstream.update_stream(config)
