"""derivation as a stream: the cursor keeps its position and what is still open, and learns
of late rows

Revision ID: b7e41d0c9a25
Revises: 8c2f4e7a1d93
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7e41d0c9a25"
down_revision: str | None = "8c2f4e7a1d93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "derivation_cursors"


def upgrade() -> None:
    # Rows from `resume_from` on were read again (an open trip started there): the same rows
    # are those after `derived_until`, the state starting empty there.
    op.alter_column(TABLE, "resume_from", new_column_name="derived_until")
    op.execute(f"UPDATE {TABLE} SET derived_until = derived_until - interval '1 microsecond'")
    op.add_column(TABLE, sa.Column("state", postgresql.JSONB(), nullable=True))
    op.add_column(TABLE, sa.Column("arrived_from", sa.DateTime(timezone=True), nullable=True))
    op.drop_column(TABLE, "not_before")


def downgrade() -> None:
    op.add_column(TABLE, sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
    op.drop_column(TABLE, "arrived_from")
    # Read again from the start of what is open.
    op.execute(
        f"UPDATE {TABLE} SET derived_until = least(derived_until + interval '1 microsecond', "
        "(state #>> '{trip,kept,started_at}')::timestamptz, "
        "(state #>> '{charging,started_at}')::timestamptz)"
    )
    op.alter_column(TABLE, "derived_until", new_column_name="resume_from")
    op.drop_column(TABLE, "state")
