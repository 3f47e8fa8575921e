"""idempotent requests: a POST or PATCH with an Idempotency-Key, claimed in the transaction of
its effect, with its answer for a repeat

Revision ID: f318e820b81a
Revises: b7e41d0c9a25
Create Date: 2026-12-13 09:00:00
"""

from collections.abc import Sequence

from shared.idempotency.migration import create_idempotent_requests, drop_idempotent_requests

revision: str = "f318e820b81a"
down_revision: str | None = "b7e41d0c9a25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotent_requests()


def downgrade() -> None:
    drop_idempotent_requests()
