"""Ingestion: a decoded batch becomes durable wide rows. Derivation happens later, in the
worker, over committed rows; nothing here runs per sample beyond the checks."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter

from services.telematics.codec import (
    Rows,
    Sample,
    TypedSample,
    decode_batch,
    time_window,
    to_rows,
)
from services.telematics.config import TelematicsSettings
from services.telematics.signal_store import (
    AlreadyStored,
    SignalWriter,
    create_partitions,
    missing_partitions,
    scoped_transaction,
    sendable_vehicles,
    store,
)
from shared.auth import Caller, CallerKind
from shared.errors import Forbidden
from shared.scoping import RowScope

SAMPLES = Counter("cem_telematics_samples_total", "Ingested samples by outcome", ["outcome"])
# Labelled children looked up once: `labels()` takes a lock on every call.
ACCEPTED, DUPLICATE, REJECTED = (SAMPLES.labels(o) for o in ("accepted", "duplicate", "rejected"))


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
    writer: SignalWriter,
    samples: list[TypedSample] | list[Sample],
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
    window = {"earliest": earliest, "latest": latest}
    async with writer.connection() as connection:
        if months := missing_partitions([s.ts for s in samples if earliest <= s.ts <= latest]):
            await create_partitions(connection, months)
        try:
            rows, inserted = await _write(connection, samples, caller, window, merge=False)
        except AlreadyStored:  # resent rows: again, the way that drops them
            rows, inserted = await _write(connection, samples, caller, window, merge=True)
    result = IngestionResult(
        accepted=inserted,
        duplicates=len(rows.records) - inserted,
        rejected=len(rows.problems),
        problems=rows.problems,
    )
    ACCEPTED.inc(result.accepted)
    DUPLICATE.inc(result.duplicates)
    REJECTED.inc(result.rejected)
    return result


async def _write(
    connection, samples, caller: Caller, window: dict[str, datetime], *, merge: bool
) -> tuple[Rows, int]:
    """One transaction: the vehicles the caller may send for, their rows stored."""
    async with scoped_transaction(connection, RowScope.for_caller(caller)):
        vins = list({sample.vin for sample in samples})
        vehicles = await sendable_vehicles(connection, vins, _dealer_scope(caller))
        rows = to_rows(samples, vehicles, **window)
        return rows, await store(connection, rows.records, merge=merge)


async def ingest_body(
    writer: SignalWriter,
    body: bytes,
    content_type: str,
    *,
    caller: Caller,
    settings: TelematicsSettings,
    now: datetime,
) -> IngestionResult:
    samples = decode_batch(body, content_type, max_samples=settings.max_batch_samples)
    return await ingest(writer, samples, caller=caller, settings=settings, now=now)
