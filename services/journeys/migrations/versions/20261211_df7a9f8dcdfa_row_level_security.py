"""row-level security on every table with a dealer column

Revision ID: df7a9f8dcdfa
Revises: 5d1c0e7a9b21
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

from shared import row_security
from shared.row_security import dealer_rows, shared_rows

revision: str = "df7a9f8dcdfa"
down_revision: str | None = "5d1c0e7a9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A recall's vehicles are their dealer's; the projections of owners and vehicles are shared.
POLICIES = {
    "recall_vehicles": dealer_rows("dealer_id"),
    "known_owners": shared_rows(),
    "known_vehicles": shared_rows(),
}


def upgrade() -> None:
    row_security.enable(POLICIES)


def downgrade() -> None:
    row_security.disable(POLICIES)
