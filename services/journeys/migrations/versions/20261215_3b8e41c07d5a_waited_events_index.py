"""the events waiting instances wait for, indexed on their own: an event handler asks once a
fetch whether any instance waits for its event before asking owner by owner

Revision ID: 3b8e41c07d5a
Revises: 665ce5db7802
Create Date: 2026-12-15 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b8e41c07d5a"
down_revision: str | None = "665ce5db7802"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_journey_instances_waited_event"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "journey_instances",
        ["waiting_event"],
        postgresql_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="journey_instances")
