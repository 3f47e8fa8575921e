"""dealer group keys: the gateway learns the dealer hierarchy and issues keys per group

Revision ID: 3d3a77e3e375
Revises: 630706e51ebe
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "3d3a77e3e375"
down_revision: str | None = "630706e51ebe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dealer_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column("dealers", sa.Column("group_id", sa.Uuid(), nullable=True))
    op.add_column(
        "dealers", sa.Column("group_changed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(op.f("ix_dealers_group_id"), "dealers", ["group_id"], unique=False)
    op.alter_column("api_keys", "dealer_id", existing_type=sa.Uuid(), nullable=True)
    op.add_column("api_keys", sa.Column("dealer_group_id", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_api_keys_dealer_group_id"), "api_keys", ["dealer_group_id"], unique=False
    )
    op.create_foreign_key(
        "api_keys_dealer_group_id_fkey", "api_keys", "dealer_groups", ["dealer_group_id"], ["id"]
    )
    op.create_check_constraint(
        "api_keys_one_holder", "api_keys", "(dealer_id IS NULL) <> (dealer_group_id IS NULL)"
    )


def downgrade() -> None:
    op.drop_constraint("api_keys_one_holder", "api_keys", type_="check")
    op.drop_constraint("api_keys_dealer_group_id_fkey", "api_keys", type_="foreignkey")
    op.drop_index(op.f("ix_api_keys_dealer_group_id"), table_name="api_keys")
    op.execute("DELETE FROM api_keys WHERE dealer_id IS NULL")
    op.drop_column("api_keys", "dealer_group_id")
    op.alter_column("api_keys", "dealer_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_index(op.f("ix_dealers_group_id"), table_name="dealers")
    op.drop_column("dealers", "group_changed_at")
    op.drop_column("dealers", "group_id")
    op.drop_table("dealer_groups")
