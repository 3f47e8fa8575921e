"""household departures: an owner's leaving a household through the API, so that a repeated
leave is answered as done

Revision ID: 6e0b2d7c51a3
Revises: 3128085fb260
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6e0b2d7c51a3"
down_revision: str | None = "3128085fb260"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No dealer column, so no row-level security policy: like household_members, a departure
    # is reached only through a household the caller's scope shows.
    op.create_table(
        "household_departures",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"]),
        sa.PrimaryKeyConstraint("household_id", "owner_id"),
    )
    op.create_index(op.f("ix_household_departures_owner_id"), "household_departures", ["owner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_household_departures_owner_id"), table_name="household_departures")
    op.drop_table("household_departures")
