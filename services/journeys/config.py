from pathlib import Path

from shared.config import ServiceSettings

SERVICE = "journeys"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class JourneysSettings(ServiceSettings):
    # The step worker: how often it looks for due instances and how many it claims at a time.
    step_poll_seconds: float = 2.0
    step_batch: int = 500
    # The delivery worker hands queued push, SMS, e-mail and webhook deliveries to senders.
    delivery_poll_seconds: float = 2.0
    delivery_batch: int = 200
    # A push that finds the vehicle moving is tried again after this long.
    moving_retry_minutes: int = 10
    # A trip start older than this without an end is stale: the vehicle counts as parked.
    motion_stale_hours: int = 12
