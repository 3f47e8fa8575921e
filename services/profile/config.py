from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.config import SERVICE_PORTS, ServiceSettings

SERVICE = "profile"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Development defaults: usable on a laptop, refused anywhere else.
DEV_OWNER_MASTER_KEY = "dev-owner-master-key-change-me-0123456789"
DEV_CONTACT_HASH_PEPPER = "dev-contact-hash-pepper-change-me-012345"
# The owner app's universal link (iOS) / app link (Android) for referrals: the code is the last
# path segment, not a query parameter, because both operating systems route these links to the
# app by path pattern (`/referrals/*`), while the web page that opens without the app reads the
# code from the path as easily. It is the shape survey links have too (token last).
DEFAULT_REFERRAL_LINK_BASE = "https://app.cem.example.com/referrals"


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
    # Where an owner's referral link points; their code is appended as the last path segment.
    referral_link_base: str = DEFAULT_REFERRAL_LINK_BASE

    @field_validator("referral_link_base")
    @classmethod
    def _link_base_is_a_web_address(cls, value: str) -> str:
        """An http(s) address with a host and nothing after its path (the code goes last);
        kept without a trailing slash, so that the link has exactly one before the code."""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("CEM_REFERRAL_LINK_BASE must be an http(s) URL with a host")
        if parts.query or parts.fragment or value.endswith(("?", "#")):
            raise ValueError("CEM_REFERRAL_LINK_BASE must end with its path: the code goes last")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_development_keys(self) -> Self:
        if self.environment.is_development:
            return self
        for name in ("owner_master_key", "contact_hash_pepper"):
            if getattr(self, name).get_secret_value().startswith("dev-"):
                raise ValueError(f"CEM_{name.upper()} must be set outside development")
        return self
