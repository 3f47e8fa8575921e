"""Ingestion: a decoded batch becomes durable wide rows. Derivation happens later, in the
worker, over committed rows; nothing here runs per sample beyond the checks."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter, Histogram

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
    merge_new,
    missing_partitions,
    scoped_transaction,
    sendable_vehicles,
    store_new,
)
from shared.auth import Caller, CallerKind
from shared.errors import Forbidden
from shared.scoping import RowScope

SAMPLES = Counter("cem_telematics_samples_total", "Ingested samples by outcome", ["outcome"])
# Labelled children looked up once: `labels()` takes a lock on every call.
ACCEPTED, DUPLICATE, REJECTED = (SAMPLES.labels(o) for o in ("accepted", "duplicate", "rejected"))
BATCHES_PER_COMMIT = Histogram(
    "cem_telematics_batches_per_commit",
    "Batches per ingestion transaction that stored them",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)


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
    batches: "Batches",
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
    rows, inserted = await batches.store(
        _Batch(samples, {"earliest": earliest, "latest": latest}), caller
    )
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


@dataclass
class _Batch:
    samples: list[TypedSample] | list[Sample]
    window: dict[str, datetime]  # earliest, latest: the times accepted
    stored: "asyncio.Future[tuple[Rows, int]] | None" = None


class Batches:
    """Stores batches through ingestion's pool. Vehicle gateways' batches that arrive while
    some are being stored wait, then go in together: one transaction, one COPY (PostgreSQL
    spends about as much on starting a COPY as on 1,000 rows of it: raw COPY costs half as
    much per row in 10,000-row batches as in 1,000-row ones). Each request still answers
    after the commit that holds its rows. A group with a row that may repeat another is
    stored batch by batch instead, the way that drops repeats. Dealers' batches go alone.
    One group is stored at a time: in bench.telematics two at a time grouped less and cost
    PostgreSQL more (3.8 against 3.1 ms per 1,000-sample batch)."""

    def __init__(self, writer: SignalWriter) -> None:
        self.writer = writer
        self._waiting: list[_Batch] = []
        self._storing: asyncio.Task | None = None

    async def store(self, batch: _Batch, caller: Caller) -> tuple[Rows, int]:
        if caller.kind is not CallerKind.SERVICE:
            async with self.writer.connection() as connection:
                await _create_partitions(connection, [batch])
                (outcome,) = await _store_group(connection, [batch], caller)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        batch.stored = asyncio.get_running_loop().create_future()
        self._waiting.append(batch)
        if self._storing is None or self._storing.done():
            # A task of its own: a request that goes away does not cancel the others' group.
            self._storing = asyncio.create_task(self._store_waiting(caller))
        return await asyncio.shield(batch.stored)

    async def _store_waiting(self, caller: Caller) -> None:
        """Until none waits: all that wait, together."""
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                async with self.writer.connection() as connection:
                    await _create_partitions(connection, group)
                    outcomes = await _store_group(connection, group, caller)
            except asyncio.CancelledError:
                for batch in [*group, *self._waiting]:
                    _future(batch).cancel()  # does nothing to a request already answered
                raise
            except Exception as error:
                outcomes = [error] * len(group)
            for batch, outcome in zip(group, outcomes, strict=True):
                _settle(batch, outcome)


Outcome = tuple[Rows, int] | Exception


def _future(batch: _Batch) -> "asyncio.Future[tuple[Rows, int]]":
    assert batch.stored is not None
    return batch.stored


def _settle(batch: _Batch, outcome: Outcome) -> None:
    """Hands a batch's outcome to its request, unless the request is gone."""
    stored = _future(batch)
    if stored.done():
        return
    if isinstance(outcome, Exception):
        stored.set_exception(outcome)
    else:
        stored.set_result(outcome)


async def _create_partitions(connection, batches: list[_Batch]) -> None:
    moments = [
        sample.ts
        for batch in batches
        for sample in batch.samples
        if batch.window["earliest"] <= sample.ts <= batch.window["latest"]
    ]
    if months := missing_partitions(moments):
        await create_partitions(connection, months)


async def _store_group(connection, group: list[_Batch], caller: Caller) -> list[Outcome]:
    """Each batch's outcome: what was stored, or why it was not. All in one transaction if
    they can be; else one by one, the way that drops repeats (a batch that fails then does
    not take back those committed before it)."""
    try:
        stored = await _write(connection, group, caller)
    except AlreadyStored:  # a row stored before, or rows that may repeat one another
        pass
    else:
        BATCHES_PER_COMMIT.observe(len(group))
        return stored
    outcomes: list[Outcome] = []
    for batch in group:
        try:
            outcomes.extend(await _write(connection, [batch], caller, merge=True))
        except Exception as error:
            outcomes.append(error)
        else:
            BATCHES_PER_COMMIT.observe(1)
    return outcomes


async def _write(
    connection, group: list[_Batch], caller: Caller, *, merge: bool = False
) -> list[tuple[Rows, int]]:
    """One transaction: the vehicles the caller may send for, the group's rows stored:
    straight in, if they are all new and cannot repeat one another (else `AlreadyStored`,
    and nothing is stored); with `merge` (one batch), dropping repeats."""
    async with scoped_transaction(connection, RowScope.for_caller(caller)):
        vins = list({sample.vin for batch in group for sample in batch.samples})
        vehicles = await sendable_vehicles(connection, vins, _dealer_scope(caller))
        each = [to_rows(batch.samples, vehicles, **batch.window) for batch in group]
        if merge:
            (rows,) = each
            return [(rows, await merge_new(connection, rows.records))]
        records = [record for rows in each for record in rows.records]
        if records and not await store_new(connection, records):
            raise AlreadyStored
        return [(rows, len(rows.records)) for rows in each]


async def ingest_body(
    batches: Batches,
    body: bytes,
    content_type: str,
    *,
    caller: Caller,
    settings: TelematicsSettings,
    now: datetime,
) -> IngestionResult:
    samples = decode_batch(body, content_type, max_samples=settings.max_batch_samples)
    return await ingest(batches, samples, caller=caller, settings=settings, now=now)
