"""Ingestion: a decoded batch becomes durable wide rows. Derivation happens later, in the
worker, over committed rows; nothing here runs per sample beyond the checks."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter

from services.telematics.codec import Sample, decode_batch, time_window, to_rows
from services.telematics.config import TelematicsSettings
from services.telematics.signal_store import (
    create_partitions,
    missing_partitions,
    remember_partitions,
    sendable_vehicles,
    store,
)
from shared.auth import Caller, CallerKind
from shared.database import Database
from shared.errors import Forbidden

SAMPLES = Counter("cem_telematics_samples_total", "Ingested samples by outcome", ["outcome"])


@dataclass(frozen=True)
class IngestionResult:
    accepted: int
    duplicates: int
    rejected: int
    problems: list[dict]


def require_sender(caller: Caller) -> None:
    """A vehicle gateway (service credential) sends for any vehicle, a dealer for its own."""
    if caller.kind not in (CallerKind.SERVICE, CallerKind.DEALER):
        raise Forbidden("Signals are sent by a vehicle gateway or a dealer system")
    if caller.dealer_group_id:
        raise Forbidden("Signals are sent with a dealer's own key, not its dealer group's")


def _dealer_scope(caller: Caller) -> uuid.UUID | None:
    """None lets a vehicle gateway send for any vehicle; a dealer without an id sends for none."""
    if caller.kind is CallerKind.SERVICE:
        return None
    return caller.dealer_id or uuid.UUID(int=0)


async def ingest(
    database: Database,
    samples: list[Sample],
    *,
    caller: Caller,
    settings: TelematicsSettings,
    now: datetime,
) -> IngestionResult:
    """Answers only after the rows are committed: accepted means durable."""
    require_sender(caller)
    earliest, latest = time_window(
        now, max_age_days=settings.max_age_days, max_future_seconds=settings.max_future_seconds
    )
    months = missing_partitions(s.ts for s in samples if earliest <= s.ts <= latest)
    if months:
        async with database.transaction() as session:
            await create_partitions(session, months)
        remember_partitions(months)
    async with database.transaction() as session:
        vins = list({sample.vin for sample in samples})
        vehicles = await sendable_vehicles(session, vins, _dealer_scope(caller))
        rows = to_rows(samples, vehicles, earliest=earliest, latest=latest)
        inserted = await store(session, rows.records)
    result = IngestionResult(
        accepted=inserted,
        duplicates=rows.duplicates + len(rows.records) - inserted,
        rejected=len(rows.problems),
        problems=rows.problems,
    )
    SAMPLES.labels("accepted").inc(result.accepted)
    SAMPLES.labels("duplicate").inc(result.duplicates)
    SAMPLES.labels("rejected").inc(result.rejected)
    return result


async def ingest_body(
    database: Database,
    body: bytes,
    content_type: str,
    *,
    caller: Caller,
    settings: TelematicsSettings,
    now: datetime,
) -> IngestionResult:
    samples = decode_batch(body, content_type, max_samples=settings.max_batch_samples)
    return await ingest(database, samples, caller=caller, settings=settings, now=now)
