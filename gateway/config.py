from pathlib import Path

from pydantic import Field, SecretStr

from shared.config import (
    DEV_API_KEY_PEPPER,
    DEV_JWT_SECRET,
    SERVICE_PORTS,
    ServiceSettings,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _local_upstreams() -> dict[str, str]:
    return {name: f"http://127.0.0.1:{port}" for name, port in SERVICE_PORTS.items()}


class GatewaySettings(ServiceSettings):
    host: str = "127.0.0.1"
    gateway_port: int = 8000
    # Service name -> base URL; `/v1/<name>/...` is forwarded there.
    upstreams: dict[str, str] = Field(default_factory=_local_upstreams)
    upstream_timeout_seconds: float = 30.0
    # A request whose service refused it, was draining or (for an idempotent request) broke
    # the connection is sent again, with back-off, until this long after the first failure:
    # long enough to ride out a single replica's restart.
    upstream_retry_seconds: float = 10.0
    upstream_connections: int = 100

    # Bearer tokens: HS256 with a shared secret locally, RS256/ES256 from a JWKS in production.
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwks_url: str | None = None
    jwt_audience: str = "cem"
    jwt_issuer: str = "cem-local"
    api_key_pepper: SecretStr = SecretStr(DEV_API_KEY_PEPPER)
    # How often the keys used since the last write get their `last_used_at` (one UPDATE).
    key_use_flush_seconds: float = 30.0

    rate_limit_per_second: float = 50.0
    rate_limit_burst: int = 100
    max_body_bytes: int = 1_048_576
    # Services whose requests may be larger: telematics takes batches of up to 10,000 samples
    # (about 4 MiB of JSON); at 1 MiB a batch stopped at about 2,500.
    service_max_body_bytes: dict[str, int] = {"telematics": 16 * 1_048_576}
    cors_origins: list[str] = []
    # Paths answered without a caller (a survey answered through a link's token); they are
    # rate-limited per client address.
    public_path_prefixes: list[str] = ["/v1/feedback/public/"]

    def body_limit(self, service: str) -> int:
        return self.service_max_body_bytes.get(service, self.max_body_bytes)
