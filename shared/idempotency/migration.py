"""The `idempotent_requests` table as each service's migration creates it
(`shared.idempotency.claims` uses it), so its schema is written once.

This is migration code, frozen: a later change to the table takes a new migration in each
service, never an edit here (databases already migrated would not see it).
"""

import sqlalchemy as sa
from alembic import op

TABLE = "idempotent_requests"
BY_AGE = "ix_idempotent_requests_created_at"  # for the purge of answers past 24 h


def create_idempotent_requests() -> None:
    op.create_table(
        TABLE,
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("caller", "key"),
    )
    op.create_index(BY_AGE, TABLE, ["created_at"])


def drop_idempotent_requests() -> None:
    op.drop_index(BY_AGE, table_name=TABLE)
    op.drop_table(TABLE)
