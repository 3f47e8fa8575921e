"""row-level security on every table with a dealer column

Revision ID: 32008b402934
Revises: 7f3a9c2e4b10
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

from shared import row_security
from shared.row_security import dealer_rows, parent_rows, shared_rows

revision: str = "32008b402934"
down_revision: str | None = "7f3a9c2e4b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Cases and dealers' settings are the dealer's own; a case's SLA clocks go with the case (their
# dealer column names whose business hours they count); routing rules and the projections of
# profile's dealers, owners and vehicles are shared (a case is routed on every dealer's facts).
POLICIES = {
    "tickets": dealer_rows("dealer_id"),
    "dealer_settings": dealer_rows("dealer_id"),
    "sla_clocks": parent_rows("tickets", "ticket_id"),
    "routing_rules": shared_rows(),
    "known_dealers": shared_rows(),
    "known_owners": shared_rows(),
    "known_vehicles": shared_rows(),
}


def upgrade() -> None:
    row_security.enable(POLICIES)


def downgrade() -> None:
    row_security.disable(POLICIES)
