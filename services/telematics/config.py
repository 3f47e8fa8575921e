from pathlib import Path

from pydantic import Field

from shared.config import ServiceSettings

SERVICE = "telematics"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class TelematicsSettings(ServiceSettings):
    # Ingestion: the largest batch one request may carry, in samples and in bytes.
    max_batch_samples: int = 10_000
    max_body_bytes: int = 16 * 1024 * 1024
    # Connections of ingestion's own pool (COPY), beside the service's pool.
    ingest_connections: int = 8
    # Samples stamped further ahead than this (clock skew) are rejected.
    max_future_seconds: int = 300
    # Raw location tracks are erased after this many days.
    location_retention_days: int = 30
    # The pause between the derivation worker's sweeps (each takes every vehicle with new
    # rows once).
    derivation_poll_seconds: float = 2.0
    # With CEM_ROLE=all, derivation runs in this many child processes (see
    # `derivation_process`), which claim vehicles with SKIP LOCKED; 0 derives in-process.
    # More than one works off a backlog faster when cores are free, but beside ingestion on
    # 2 cores two cost more (passes come more often, each with fewer rows): in a load of
    # 1,000-sample batches at c=4 through the gateway, 118,000 samples/s against 140,000.
    derivation_processes: int = Field(default=1, ge=0, le=16)
    # The quality analysis runs on its own every this many seconds (and on demand via the API).
    quality_interval_seconds: float = 3600.0
    retention_interval_seconds: float = 3600.0
    # Samples older than this are refused (raw rows live in monthly partitions).
    max_age_days: int = 400
    # Rows one derivation pass reads for a vehicle (a longer backlog takes several passes;
    # what is open carries over between them, so a trip may be any length).
    derivation_row_limit: int = 50_000
