"""Settings common to every process, read from `CEM_*` environment variables."""

from enum import StrEnum
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

# Development defaults: usable on a laptop, refused anywhere else.
DEV_INTERNAL_SECRET = "dev-internal-secret-change-me-0123456789"
DEV_JWT_SECRET = "dev-jwt-secret-change-me-0123456789abcdef"
DEV_API_KEY_PEPPER = "dev-api-key-pepper-change-me-0123456789"
# The application role when `CEM_APP_DATABASE_URL` names none (docs/operations.md).
DEFAULT_APPLICATION_ROLE = "cem_app"

# One place that names the services and where they listen by default.
SERVICE_PORTS: dict[str, int] = {
    "profile": 8101,
    "feedback": 8102,
    "tickets": 8103,
    "telematics": 8104,
    "journeys": 8105,
}


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"

    @property
    def is_development(self) -> bool:
        return self in (Environment.LOCAL, Environment.TEST)


class Role(StrEnum):
    """Runs a process as everything (one machine) or as one part (Kubernetes)."""

    ALL = "all"
    API = "api"
    WORKER = "worker"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CEM_", extra="ignore")

    environment: Environment = Environment.LOCAL
    # A server URL; each service uses its own database `<database_prefix>_<service>` on it.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    # The same server as the application role services run as: it neither owns the tables
    # nor bypasses row-level security. Unset: `database_url` as the role `cem_app`, without
    # a password (trust authentication, as the embedded server and the tests have).
    app_database_url: str | None = None
    # Tests only: `off` drops the application's own dealer scoping (`in_visible_dealers`),
    # leaving row-level security alone to keep dealers apart.
    application_scoping: bool = True
    database_prefix: str = "cem"
    database_pool_size: int = 10
    nats_url: str = "nats://127.0.0.1:4222"
    # Copies of each stream: 3 on a JetStream cluster, 1 on a single server (the default).
    stream_replicas: int = Field(default=1, ge=1, le=5)
    internal_secret: SecretStr = SecretStr(DEV_INTERNAL_SECRET)
    role: Role = Role.ALL
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _scoping_off_only_in_tests(self) -> Self:
        if not self.application_scoping and self.environment is not Environment.TEST:
            raise ValueError("CEM_APPLICATION_SCOPING=off is for the test environment only")
        return self

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if self.environment.is_development:
            return self
        for name, value in self._secrets().items():
            if value in (DEV_INTERNAL_SECRET, DEV_JWT_SECRET, DEV_API_KEY_PEPPER):
                raise ValueError(f"CEM_{name.upper()} must be set outside development")
        return self

    def _secrets(self) -> dict[str, str]:
        return {
            name: value.get_secret_value() for name, value in self if isinstance(value, SecretStr)
        }

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}_{service}"

    def application_database_url(self) -> str:
        if self.app_database_url:
            return self.app_database_url
        owner = make_url(self.database_url)
        url = URL.create(
            owner.drivername,
            username=DEFAULT_APPLICATION_ROLE,
            host=owner.host,
            port=owner.port,
            database=owner.database,
            query=owner.query,
        )
        return url.render_as_string(hide_password=False)


class ServiceSettings(CommonSettings):
    """Base for a service's own settings class."""

    host: str = "127.0.0.1"
    port: int = 0
    relay_interval_seconds: float = 1.0
    consumer_batch: int = 50
    consumer_max_deliver: int = 5
