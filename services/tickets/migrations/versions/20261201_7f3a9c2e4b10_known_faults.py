"""known faults: vehicles' active fault codes, attached to service bookings

Revision ID: 7f3a9c2e4b10
Revises: 3c1d7e52a9b0
Create Date: 2026-12-01 23:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7f3a9c2e4b10"
down_revision: str | None = "3c1d7e52a9b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_faults",
        sa.Column("vehicle_id", sa.Uuid(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("component", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("mileage_km", sa.Float(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vehicle_id", "code"),
    )


def downgrade() -> None:
    op.drop_table("known_faults")
