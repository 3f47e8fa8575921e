"""analytics rollups, touchpoint records, dealer networks, erasure

Revision ID: 940621329a96
Revises: d58890b93e75
Create Date: 2026-12-01 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "940621329a96"
down_revision: str | None = "d58890b93e75"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CELL = ["grain", "period_start", "dealer_id", "touchpoint", "lifecycle_stage", "model", "kind"]


def _string(name: str, length: int, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def _moment(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _cell_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        _string("grain", 8),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        _string("touchpoint", 32),
        _string("lifecycle_stage", 32, nullable=True),
        _string("model", 100, nullable=True),
        _string("kind", 16),
    ]


def _counts(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in names]


def _rollup_table(name: str, extra: list[sa.Column], cell: list[str]) -> None:
    op.create_table(
        name,
        *_cell_columns(),
        *extra,
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*cell, name=f"uq_{name}_cell", postgresql_nulls_not_distinct=True),
    )
    op.create_index(f"ix_{name}_period", name, ["grain", "kind", "period_start"])


def upgrade() -> None:
    # Profile names the stage "usage_and_service"; feedback follows.
    for table in ("invitations", "responses"):
        op.execute(
            f"UPDATE {table} SET lifecycle_stage = 'usage_and_service' "
            "WHERE lifecycle_stage = 'use_and_service'"
        )
        op.alter_column(table, "owner_id", nullable=True)
    op.add_column(
        "responses",
        sa.Column("from_dealer_network", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.add_column("responses", _moment("erased_at", nullable=True))
    op.create_index(
        "ix_responses_dealer_kind_submitted", "responses", ["dealer_id", "kind", "submitted_at"]
    )
    op.add_column("posts", _moment("engagement_seen_at", nullable=True))
    op.add_column("posts", _moment("erased_at", nullable=True))
    op.add_column("known_owners", _string("lifecycle_stage", 32, nullable=True))

    op.create_table(
        "touchpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        _string("source", 128),
        _string("touchpoint", 32),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("vehicle_id", sa.Uuid(), nullable=True),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        _string("outcome", 32),
        _moment("occurred_at"),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"),
    )
    op.create_index("ix_touchpoints_owner_id", "touchpoints", ["owner_id"])
    op.create_index("ix_touchpoints_dealer_occurred", "touchpoints", ["dealer_id", "occurred_at"])

    op.create_table(
        "dealer_networks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("cidr", postgresql.CIDR(), nullable=False),
        _string("label", 100, nullable=True),
        _string("created_by", 200),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dealer_id", "cidr"),
    )
    op.create_index("ix_dealer_networks_dealer_id", "dealer_networks", ["dealer_id"])

    op.create_table(
        "erased_owners",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        _moment("erased_at"),
        sa.PrimaryKeyConstraint("owner_id"),
    )

    score_counts = _counts(
        "invited", "responses", "promoters", "passives", "detractors", "top_box", "score_sum",
        "from_dealer_network",
    )  # fmt: skip
    _rollup_table("score_rollups", score_counts, CELL)
    topic_columns = [_string("band", 16), _string("topic", 64), *_counts("mentions")]
    _rollup_table("topic_rollups", topic_columns, [*CELL, "band", "topic"])
    # The next revision counts what was answered before the rollups existed.


def downgrade() -> None:
    for table in ("topic_rollups", "score_rollups", "erased_owners", "dealer_networks"):
        op.drop_table(table)
    op.drop_table("touchpoints")
    op.drop_column("known_owners", "lifecycle_stage")
    op.drop_column("posts", "erased_at")
    op.drop_column("posts", "engagement_seen_at")
    op.drop_index("ix_responses_dealer_kind_submitted", table_name="responses")
    op.drop_column("responses", "erased_at")
    op.drop_column("responses", "from_dealer_network")
