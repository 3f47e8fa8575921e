"""the answers-by-kind-and-time index also carries who answered from where, so the integrity
report's shared-network figure reads its window from the index alone

Revision ID: 8eab56a8124b
Revises: 18d379b7f5cc
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8eab56a8124b"
down_revision: str | None = "18d379b7f5cc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_responses_kind_submitted"
KEY = ["kind", "submitted_at"]
PROVENANCE = ["dealer_id", "owner_id", "network_hash", "device_hash"]


def upgrade() -> None:
    op.drop_index(INDEX, table_name="responses")
    op.create_index(INDEX, "responses", KEY, postgresql_include=PROVENANCE)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="responses")
    op.create_index(INDEX, "responses", KEY)
