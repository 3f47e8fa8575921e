"""Every query on the raw signals: COPY in, the derivation worker's reads, location expiry and
erasure. asyncpg directly (through the session's own connection and transaction): ORM inserts
are far too slow for this path.
"""

import uuid
import weakref
from collections.abc import Iterable
from datetime import UTC, date, datetime

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.catalogue import ROW_COLUMNS, SIGNALS
from services.telematics.codec import KnownVehicle
from services.telematics.domain import Point

STAGING = "signals_staging"
_SIGNAL_COLUMNS = ", ".join(ROW_COLUMNS)
_STATE_COLUMNS = ("speed", "odometer_m", "soc", "latitude", "longitude", "is_charging", "gear")

# Resent samples are dropped by the unique (vehicle, time) index.
_INSERT = f"""
INSERT INTO signals ({_SIGNAL_COLUMNS}) SELECT {_SIGNAL_COLUMNS} FROM {STAGING}
ON CONFLICT (vehicle_id, ts) DO NOTHING
"""
# The newest row of each vehicle in the batch refreshes its latest state (keeping values it
# did not carry; an older or resent row changes nothing) and marks it for derivation. Vehicles
# come in id order, so concurrent batches lock their rows in the same order.
_STATE_TYPES = ("uuid", "timestamptz", *("float8",) * 5, "bool", "int4")
_LATEST = f"""
WITH newest (vehicle_id, ts, {", ".join(_STATE_COLUMNS)}) AS (
    SELECT * FROM unnest({", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(_STATE_TYPES))})
), state AS (
    INSERT INTO vehicle_state (vehicle_id, ts, {", ".join(_STATE_COLUMNS)}, updated_at)
    SELECT *, now() FROM newest ORDER BY vehicle_id
    ON CONFLICT (vehicle_id) DO UPDATE SET ts = EXCLUDED.ts, updated_at = now(),
        {", ".join(f"{c} = coalesce(EXCLUDED.{c}, vehicle_state.{c})" for c in _STATE_COLUMNS)}
    WHERE vehicle_state.ts < EXCLUDED.ts
)
INSERT INTO derivation_cursors (vehicle_id, dirty)
SELECT vehicle_id, true FROM newest ORDER BY vehicle_id
ON CONFLICT (vehicle_id) DO UPDATE SET dirty = true WHERE NOT derivation_cursors.dirty
"""
_STATE_POSITIONS = [ROW_COLUMNS.index(column) for column in ("vehicle_id", "ts", *_STATE_COLUMNS)]


def _newest_per_vehicle(records: list[tuple]) -> list[list]:
    """Column arrays (for unnest) of each vehicle's newest row, in vehicle id order."""
    newest: dict[uuid.UUID, tuple] = {}
    for record in records:
        known = newest.get(record[0])
        if known is None or known[1] < record[1]:
            newest[record[0]] = record
    rows = [newest[key] for key in sorted(newest)]
    return [[row[position] for row in rows] for position in _STATE_POSITIONS]


# The registered vehicles among a batch's VINs that the sender may send for (a vehicle gateway,
# $2 NULL, any; a dealer those it sold or services), and whether their owner allows location.
_SENDABLE = """
SELECT v.vin, v.id, coalesce(c.granted, false) AS location_allowed
FROM vehicles v LEFT JOIN location_consents c ON c.owner_id = v.owner_id
WHERE v.vin = ANY($1::text[]) AND v.registered
  AND ($2::uuid IS NULL OR v.servicing_dealer_id = $2 OR v.selling_dealer_id = $2)
"""


async def sendable_vehicles(
    session: AsyncSession, vins: list[str], dealer_id: uuid.UUID | None
) -> dict[str, KnownVehicle]:
    """A prepared statement on the driver: this runs once per batch on the hot path."""
    connection = await driver_connection(session)
    rows = await connection.fetch(_SENDABLE, vins, dealer_id)
    return {row[0]: KnownVehicle(row[1], row[2]) for row in rows}


# Connections that already have the staging table.
_staged: weakref.WeakSet = weakref.WeakSet()
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


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def missing_partitions(moments: Iterable[datetime]) -> list[date]:
    """Months with no partition known to this process (usually none: one set lookup each)."""
    return sorted({_month(moment) for moment in moments} - _known_partitions)


async def create_partitions(session: AsyncSession, months: list[date]) -> None:
    """Creates monthly partitions; commit before writing rows, so the lock on the parent table
    is held only briefly. A concurrent creator of the same month makes this one wait, then
    find it there."""
    for month in months:
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
        end_month = _next_month(month)
        end = datetime(end_month.year, end_month.month, 1, tzinfo=UTC)
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('signals_partitions'))"))
        await session.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS signals_{month:%Y%m} PARTITION OF signals "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )


def remember_partitions(months: list[date]) -> None:
    """After the partitions' transaction committed."""
    _known_partitions.update(months)


async def store(session: AsyncSession, records: list[tuple]) -> int:
    """COPYs the rows into a staging table and merges them; returns how many were new."""
    if not records:
        return 0
    connection = await driver_connection(session)
    if connection not in _staged:  # a temporary table lives as long as its connection
        await connection.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} "
            f"(LIKE signals INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        _staged.add(connection)
    await connection.copy_records_to_table(STAGING, records=records, columns=ROW_COLUMNS)
    inserted = int((await connection.execute(_INSERT)).split()[-1])
    await connection.execute(_LATEST, *_newest_per_vehicle(records))
    return inserted


_POINT_COLUMNS = ("ts", *(signal.column for signal in SIGNALS))


async def points_since(
    session: AsyncSession, vehicle_id: uuid.UUID, since: datetime | None, *, limit: int
) -> list[Point]:
    connection = await driver_connection(session)
    rows = await connection.fetch(
        f"SELECT {', '.join(_POINT_COLUMNS)} FROM signals "
        "WHERE vehicle_id = $1 AND ts >= $2 ORDER BY ts LIMIT $3",
        vehicle_id,
        since or datetime(1970, 1, 1, tzinfo=UTC),
        limit,
    )
    return [Point(**dict(row)) for row in rows]


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
