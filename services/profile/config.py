from pathlib import Path

from shared.config import ServiceSettings

SERVICE = "profile"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class ProfileSettings(ServiceSettings):
    import_max_records: int = 1000
    segment_poll_seconds: float = 60.0
