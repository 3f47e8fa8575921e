"""verified contacts: which source vouched for an owner's email and phone, and when

Revision ID: 4bbd6971feb0
Revises: 3a58c01a9c1e
Create Date: 2026-12-10 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "4bbd6971feb0"
down_revision: str | None = "3a58c01a9c1e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACTS = ("email", "phone")


def upgrade() -> None:
    # Contacts recorded before this are unverified: they no longer identify anyone until a
    # source vouches for them.
    for kind in CONTACTS:
        op.add_column(
            "owners",
            sa.Column(
                f"{kind}_verified_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
            ),
        )
        op.add_column(
            "owners", sa.Column(f"{kind}_verified_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    for kind in CONTACTS:
        op.drop_column("owners", f"{kind}_verified_at")
        op.drop_column("owners", f"{kind}_verified_by")
