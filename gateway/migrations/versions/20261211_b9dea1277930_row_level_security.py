"""row-level security on every table with a dealer column

Revision ID: b9dea1277930
Revises: 3d3a77e3e375
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

from shared import row_security
from shared.row_security import dealer_rows

revision: str = "b9dea1277930"
down_revision: str | None = "3d3a77e3e375"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A dealer's keys and its entry in the hierarchy are its own (keys are managed by admins, who
# see every dealer's; the key lookup at the edge runs before any caller is known, as all).
POLICIES = {
    "api_keys": dealer_rows("dealer_id"),
    "dealers": dealer_rows("id"),
}


def upgrade() -> None:
    row_security.enable(POLICIES)


def downgrade() -> None:
    row_security.disable(POLICIES)
