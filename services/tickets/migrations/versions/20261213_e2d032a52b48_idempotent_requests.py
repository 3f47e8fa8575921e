"""idempotent requests: a POST or PATCH with an Idempotency-Key, claimed in the transaction of
its effect, with its answer for a repeat

Revision ID: e2d032a52b48
Revises: 32008b402934
Create Date: 2026-12-13 09:00:00
"""

from collections.abc import Sequence

from shared.idempotency.migration import create_idempotent_requests, drop_idempotent_requests

revision: str = "e2d032a52b48"
down_revision: str | None = "32008b402934"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotent_requests()


def downgrade() -> None:
    drop_idempotent_requests()
