"""row-level security on every table with a dealer column

Revision ID: 36e12627988c
Revises: e89c01650a40
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

from shared import row_security
from shared.row_security import dealer_rows, shared_rows

revision: str = "36e12627988c"
down_revision: str | None = "e89c01650a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A dealer's own rows; the projections of profile's dealers, owners and vehicles are shared.
POLICIES = {
    "invitations": dealer_rows("dealer_id"),
    "responses": dealer_rows("dealer_id"),
    "posts": dealer_rows("dealer_id"),
    "score_rollups": dealer_rows("dealer_id"),
    "topic_rollups": dealer_rows("dealer_id"),
    "touchpoints": dealer_rows("dealer_id"),
    "dealer_networks": dealer_rows("dealer_id"),
    "known_dealers": shared_rows(),
    "known_owners": shared_rows(),
    "known_vehicles": shared_rows(),
}


def upgrade() -> None:
    row_security.enable(POLICIES)


def downgrade() -> None:
    row_security.disable(POLICIES)
