"""row-level security on every table with a dealer column

Revision ID: 2980df841c7f
Revises: 4bbd6971feb0
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

from shared import row_security
from shared.row_security import dealer_rows, shared_rows

revision: str = "2980df841c7f"
down_revision: str | None = "4bbd6971feb0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A dealer's own rows. Vehicles and households are shared: a car is serviced anywhere, so any
# dealer records a visit for a registered VIN, and a household is any member's dealer's;
# the dealer links (vehicle_dealers, owner_dealers) say whose they are.
POLICIES = {
    "dealers": dealer_rows("id"),
    "owner_dealers": dealer_rows("dealer_id"),
    "vehicle_dealers": dealer_rows("dealer_id"),
    "orders": dealer_rows("dealer_id"),
    "service_visits": dealer_rows("dealer_id"),
    "leads": dealer_rows("dealer_id"),
    "feedback_scores": dealer_rows("dealer_id"),
    "ticket_projections": dealer_rows("dealer_id"),
    "vehicles": shared_rows(),
    "households": shared_rows(),
}


def upgrade() -> None:
    row_security.enable(POLICIES)


def downgrade() -> None:
    row_security.disable(POLICIES)
