from datetime import timedelta
from pathlib import Path

from shared.config import ServiceSettings

SERVICE = "tickets"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class TicketsSettings(ServiceSettings):
    # How long after resolution an owner (or agent) may still reopen a case.
    reopen_window_hours: int = 14 * 24
    # How often the SLA worker looks for due timers, and how many it claims at a time.
    sla_poll_seconds: float = 5.0
    sla_batch: int = 100

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(hours=self.reopen_window_hours)
