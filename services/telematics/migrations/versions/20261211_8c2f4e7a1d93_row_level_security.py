"""row-level security on every table with a dealer column; partitions made by the owner

Revision ID: 8c2f4e7a1d93
Revises: 5d616bbf5cbb
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared import row_security
from shared.row_security import dealer_rows

revision: str = "8c2f4e7a1d93"
down_revision: str | None = "5d616bbf5cbb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A vehicle is seen by the dealer that sold it and the one that services it; a service visit
# by the dealer that recorded it.
POLICIES = {
    "vehicles": dealer_rows("selling_dealer_id", "servicing_dealer_id"),
    "service_visits": dealer_rows("dealer_id"),
}

# Only the owner of `signals` may add a partition to it, and the application role owns
# nothing: ingestion asks this function, which runs as its owner (the migrations' role), for
# the month a batch needs. It takes a date and builds the names itself: nothing to inject.
CREATE_PARTITION_FUNCTION = """
CREATE FUNCTION cem_create_signals_partition(month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    first date := date_trunc('month', month)::date;
BEGIN
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF signals FOR VALUES FROM (%L) TO (%L)',
        'signals_' || to_char(first, 'YYYYMM'),
        first::timestamp AT TIME ZONE 'UTC',
        (first + interval '1 month')::timestamp AT TIME ZONE 'UTC'
    );
END $$
"""


def upgrade() -> None:
    row_security.enable(POLICIES)
    op.execute(CREATE_PARTITION_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION cem_create_signals_partition(date)")
    row_security.disable(POLICIES)
