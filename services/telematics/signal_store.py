"""Every query on the raw signals: COPY in, the derivation worker's reads, location expiry and
erasure. asyncpg directly: ORM inserts are far too slow for this path. Ingestion has a pool of
its own (`SignalWriter`) and sets its transactions' row scope itself; the other queries run
on the session's connection, in its transaction.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.catalogue import ROW_COLUMNS, SIGNALS
from services.telematics.codec import KnownVehicle
from services.telematics.domain import Point
from shared.scoping import RowScope

STAGING = "signals_staging"
_SIGNAL_COLUMNS = ", ".join(ROW_COLUMNS)
_STATE_COLUMNS = ("speed", "odometer_m", "soc", "latitude", "longitude", "is_charging", "gear")
_STATE_LIST = ", ".join(_STATE_COLUMNS)
_STATE_POSITIONS = [ROW_COLUMNS.index(column) for column in _STATE_COLUMNS]


def _refresh_state(newest: str) -> str:
    """The newest row of each vehicle (in `newest`: vehicle_id, ts and the state columns)
    refreshes its latest state, keeping values it did not carry; an older or resent row
    changes nothing. Vehicles in id order, so concurrent batches lock rows in one order."""
    keep = ", ".join(f"{c} = coalesce(EXCLUDED.{c}, vehicle_state.{c})" for c in _STATE_COLUMNS)
    return f"""
    INSERT INTO vehicle_state (vehicle_id, ts, {_STATE_LIST}, updated_at)
    SELECT vehicle_id, ts, {_STATE_LIST}, now() FROM {newest} ORDER BY vehicle_id
    ON CONFLICT (vehicle_id) DO UPDATE SET ts = EXCLUDED.ts, updated_at = now(), {keep}
    WHERE vehicle_state.ts < EXCLUDED.ts"""


def _mark_for_derivation(arrivals: str) -> str:
    """Vehicles with new rows (in `arrivals`: vehicle_id and the earliest new row's time,
    arrived_from) are marked for derivation, which tells late rows by that time."""
    return f"""
    INSERT INTO derivation_cursors (vehicle_id, dirty, arrived_from)
    SELECT vehicle_id, true, arrived_from FROM {arrivals} ORDER BY vehicle_id
    ON CONFLICT (vehicle_id) DO UPDATE SET dirty = true,
        arrived_from = least(derivation_cursors.arrived_from, EXCLUDED.arrived_from)
    WHERE NOT derivation_cursors.dirty OR derivation_cursors.arrived_from IS NULL
        OR EXCLUDED.arrived_from < derivation_cursors.arrived_from"""


# After a COPY straight into `signals`: every row was new, and the batch itself says each
# vehicle's newest row and earliest time ($1 vehicles, $2 earliest times, $3 newest times,
# then the state columns).
_COPIED = f"""
WITH newest (vehicle_id, arrived_from, ts, {_STATE_LIST}) AS (
    SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::float8[],
        $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::boolean[], $10::integer[])
), state AS ({_refresh_state("newest")}
){_mark_for_derivation("newest")}
"""

# After a COPY into the staging table, when rows may have been stored before (or come twice
# in the batch): one statement puts the new ones into `signals` (a resent one is dropped by
# the unique (vehicle, time) index), then refreshes and marks as above, from the new rows.
_MERGE = f"""
WITH inserted AS (
    INSERT INTO signals ({_SIGNAL_COLUMNS}) SELECT {_SIGNAL_COLUMNS} FROM {STAGING}
    ON CONFLICT (vehicle_id, ts) DO NOTHING
    RETURNING vehicle_id, ts
), newest AS (
    SELECT DISTINCT ON (vehicle_id) vehicle_id, ts, {_STATE_LIST}
    FROM {STAGING} ORDER BY vehicle_id, ts DESC
), arrivals AS (
    SELECT vehicle_id, min(ts) AS arrived_from FROM inserted GROUP BY vehicle_id
), state AS ({_refresh_state("newest")}
), marked AS ({_mark_for_derivation("arrivals")}
)
SELECT count(*) FROM inserted
"""

# The registered vehicles among a batch's VINs that the sender may send for (a vehicle gateway,
# $2 NULL, any; a dealer those it sold or services), and whether their owner allows location.
_SENDABLE = """
SELECT v.vin, v.id, coalesce(c.granted, false) AS location_allowed
FROM vehicles v LEFT JOIN location_consents c ON c.owner_id = v.owner_id
WHERE v.vin = ANY($1::text[]) AND v.registered
  AND ($2::uuid IS NULL OR v.servicing_dealer_id = $2 OR v.selling_dealer_id = $2)
"""


class SignalWriter:
    """Ingestion's own asyncpg pool, beside the service's SQLAlchemy one: a batch costs five
    round trips (BEGIN with the row scope, the VIN check, COPY, one merging statement and
    COMMIT) instead of ten through the ORM session (its pre-ping alone is three, its lazy
    BEGIN two). Each connection has its staging table from the start; nothing else is set on
    a connection (the scope lasts one transaction), so it is handed back without a reset (an
    open transaction is still rolled back)."""

    def __init__(self, url: URL, *, connections: int) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connections = connections
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _opened(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._connections,
                    init=_create_staging,
                    reset=_keep_session,
                )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._pool or await self._opened()
        async with pool.acquire() as connection:
            yield connection

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


async def _create_staging(connection: asyncpg.Connection) -> None:
    """A temporary table lives as long as its connection; its rows, one transaction."""
    await connection.execute(
        f"CREATE TEMP TABLE {STAGING} (LIKE signals INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )


async def _keep_session(_: asyncpg.Connection) -> None:
    """No `RESET ALL` round trip on release: the pool's connections set nothing to undo."""


async def sendable_vehicles(
    connection: asyncpg.Connection, vins: list[str], dealer_id: uuid.UUID | None
) -> dict[str, KnownVehicle]:
    rows = await connection.fetch(_SENDABLE, vins, dealer_id)
    return {row[0]: KnownVehicle(row[1], row[2]) for row in rows}


# Partitions known to exist, per process: DDL runs once per month seen, not per batch.
_known_partitions: set[date] = set()


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside its (already begun) transaction."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        await connection.execute(text("SELECT 1"))  # SQLAlchemy begins lazily, on first use
    return driver


def _month(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


def missing_partitions(moments: Sequence[datetime]) -> list[date]:
    """Months with no partition known to this process: usually none, and a batch usually
    falls within one month, so two comparisons answer for all of its samples."""
    if not moments:
        return []
    first, last = min(moments), max(moments)
    if _month(first) == _month(last):
        months = {_month(first)}
    else:
        months = {_month(moment) for moment in moments}
    return sorted(months - _known_partitions)


async def create_partitions(connection: asyncpg.Connection, months: list[date]) -> None:
    """Creates monthly partitions in a transaction of their own, committed before rows are
    written, so the lock on the parent table is held only briefly. A concurrent creator of
    the same month makes this one wait, then find it there. The service's role does not own
    `signals`: a function that runs as its owner adds the partition (see the migration)."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('signals_partitions'))")
        for month in months:
            await connection.execute("SELECT cem_create_signals_partition($1)", month)
    _known_partitions.update(months)


@asynccontextmanager
async def scoped_transaction(
    connection: asyncpg.Connection, scope: RowScope
) -> AsyncIterator[asyncpg.Connection]:
    """A transaction that sees the rows `scope` allows (row-level security). BEGIN and the
    scope go in one simple query: no round trip more than a bare transaction."""
    await connection.execute(f"BEGIN; {scope.statement()}")
    try:
        yield connection
    except BaseException:
        with suppress(Exception):  # a broken connection is discarded by the pool anyway
            await connection.execute("ROLLBACK")
        raise
    await connection.execute("COMMIT")


class AlreadyStored(Exception):
    """A row was stored before (a resent batch), or rows may repeat one another: the
    transaction is void, and each batch is to be stored again with `merge_new`."""


async def merge_new(connection: asyncpg.Connection, records: list[tuple]) -> int:
    """Stores rows that may repeat one another or rows stored before, in the caller's
    transaction: COPYed into the staging table and merged, which drops repeats (about twice
    `store_new`'s cost); returns how many were new."""
    if not records:
        return 0
    await connection.copy_records_to_table(STAGING, records=records, columns=ROW_COLUMNS)
    return await connection.fetchval(_MERGE)


async def store_new(connection: asyncpg.Connection, records: list[tuple]) -> bool:
    """COPYs rows straight into `signals`, about half the merge's cost, if they cannot repeat
    one another (each vehicle's in time order, one per second); False, with nothing done,
    if they can. A row stored before makes the COPY fail (`AlreadyStored`)."""
    batch = _in_time_order(records)
    if batch is None:
        return False
    try:
        await connection.copy_records_to_table("signals", records=records, columns=ROW_COLUMNS)
    except asyncpg.UniqueViolationError as error:
        raise AlreadyStored from error
    await connection.execute(_COPIED, *batch)
    return True


def _in_time_order(records: list[tuple]) -> list[list] | None:
    """The `_COPIED` arguments, as columns: each vehicle's earliest time, and its newest row's
    time and state; None if a vehicle's rows do not follow one another in time."""
    earliest: dict[uuid.UUID, datetime] = {}
    newest: dict[uuid.UUID, tuple] = {}
    for record in records:
        vehicle_id, moment = record[0], record[1]
        previous = newest.get(vehicle_id)
        if previous is None:
            earliest[vehicle_id] = moment
        elif moment <= previous[1]:
            return None
        newest[vehicle_id] = record
    rows = [
        (vehicle_id, earliest[vehicle_id], row[1], *(row[p] for p in _STATE_POSITIONS))
        for vehicle_id, row in newest.items()
    ]
    return [list(column) for column in zip(*rows, strict=True)]


_POINT_COLUMNS = ("ts", *(signal.column for signal in SIGNALS))
assert Point._fields == _POINT_COLUMNS, "a Point is built from a row by position"
_POINTS_AFTER = (
    f"SELECT {', '.join(_POINT_COLUMNS)} FROM signals "
    "WHERE vehicle_id = $1 AND ts > $2 ORDER BY ts LIMIT $3"
)


async def points_after(
    session: AsyncSession, vehicle_id: uuid.UUID, after: datetime | None, *, limit: int
) -> list[Point]:
    """The vehicle's rows after `after` (all, for None), oldest first, at most `limit`."""
    connection = await driver_connection(session)
    rows = await connection.fetch(
        _POINTS_AFTER, vehicle_id, after or datetime(1970, 1, 1, tzinfo=UTC), limit
    )
    new = tuple.__new__  # what `Point._make` calls, without a Python call per row
    return [new(Point, row) for row in rows]


async def expire_locations(session: AsyncSession, before: datetime) -> int:
    connection = await driver_connection(session)
    status = await connection.execute(
        "UPDATE signals SET latitude = NULL, longitude = NULL "
        "WHERE ts < $1 AND latitude IS NOT NULL",
        before,
    )
    return int(status.split()[-1])


async def erase_locations(
    session: AsyncSession, vehicle_id: uuid.UUID, start: datetime, end: datetime | None
) -> int:
    """Erases the location (and destinations) recorded while an owner had the vehicle."""
    connection = await driver_connection(session)
    status = await connection.execute(
        "UPDATE signals SET latitude = NULL, longitude = NULL, destination = NULL "
        "WHERE vehicle_id = $1 AND ts >= $2 AND ($3::timestamptz IS NULL OR ts < $3) "
        "AND (latitude IS NOT NULL OR longitude IS NOT NULL OR destination IS NOT NULL)",
        vehicle_id,
        start,
        end,
    )
    return int(status.split()[-1])
