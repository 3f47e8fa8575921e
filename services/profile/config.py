from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator

from shared.config import SERVICE_PORTS, ServiceSettings

SERVICE = "profile"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Development defaults: usable on a laptop, refused anywhere else.
DEV_OWNER_MASTER_KEY = "dev-owner-master-key-change-me-0123456789"
DEV_CONTACT_HASH_PEPPER = "dev-contact-hash-pepper-change-me-012345"


def _local_peers() -> dict[str, str]:
    return {
        name: f"http://127.0.0.1:{port}" for name, port in SERVICE_PORTS.items() if name != SERVICE
    }


class ProfileSettings(ServiceSettings):
    import_max_records: int = 1000
    segment_poll_seconds: float = 60.0
    # Wraps every owner's data key (see vault.py); the pepper keys the contact hashes.
    owner_master_key: SecretStr = SecretStr(DEV_OWNER_MASTER_KEY)
    contact_hash_pepper: SecretStr = SecretStr(DEV_CONTACT_HASH_PEPPER)
    # Other services' base URLs, for the privacy export (service -> http://host:port).
    peer_urls: dict[str, str] = Field(default_factory=_local_peers)
    peer_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _refuse_development_keys(self) -> Self:
        if self.environment.is_development:
            return self
        for name in ("owner_master_key", "contact_hash_pepper"):
            if getattr(self, name).get_secret_value().startswith("dev-"):
                raise ValueError(f"CEM_{name.upper()} must be set outside development")
        return self
