"""audit source: the service an audited export came from (other services announce theirs)

Revision ID: 4a62ccba7c94
Revises: 2980df841c7f
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "4a62ccba7c94"
down_revision: str | None = "2980df841c7f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every entry written before was profile's own.
    op.add_column(
        "audit_log",
        sa.Column(
            "source",
            sqlmodel.sql.sqltypes.AutoString(length=32),
            nullable=False,
            server_default="profile",
        ),
    )


def downgrade() -> None:
    op.drop_column("audit_log", "source")
