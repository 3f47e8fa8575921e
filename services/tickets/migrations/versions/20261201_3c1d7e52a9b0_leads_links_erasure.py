"""leads, links, queue members and erasure

Revision ID: 3c1d7e52a9b0
Revises: 815905fa3e4b
Create Date: 2026-12-01 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3c1d7e52a9b0"
down_revision: str | None = "815905fa3e4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tickets",
        sa.Column(
            "source_context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "queues",
        sa.Column(
            "members",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.create_table(
        "ticket_links",
        sa.Column("source_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("source_type", "source_id"),
    )
    op.create_index(op.f("ix_ticket_links_ticket_id"), "ticket_links", ["ticket_id"])
    op.create_table(
        "erased_owners",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_id"),
    )
    # Reports group by when a case was opened.
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_table("erased_owners")
    op.drop_index(op.f("ix_ticket_links_ticket_id"), table_name="ticket_links")
    op.drop_table("ticket_links")
    op.drop_column("queues", "members")
    op.drop_column("tickets", "source_context")
