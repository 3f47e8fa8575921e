"""idempotent requests: a POST or PATCH with an Idempotency-Key, claimed in the transaction of
its effect, with its answer for a repeat

Revision ID: 18d379b7f5cc
Revises: 36e12627988c
Create Date: 2026-12-13 09:00:00
"""

from collections.abc import Sequence

from shared.idempotency.migration import create_idempotent_requests, drop_idempotent_requests

revision: str = "18d379b7f5cc"
down_revision: str | None = "36e12627988c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotent_requests()


def downgrade() -> None:
    drop_idempotent_requests()
