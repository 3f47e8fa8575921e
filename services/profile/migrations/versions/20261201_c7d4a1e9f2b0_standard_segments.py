"""standard segments (the ones the scenarios need, as data) and a facts row per owner

Revision ID: c7d4a1e9f2b0
Revises: 907c7df00a7e
Create Date: 2026-12-01 21:40:00
"""

import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.profile.standard_segments import STANDARD_SEGMENTS

revision: str = "c7d4a1e9f2b0"
down_revision: str | None = "907c7df00a7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSERT = sa.text(
    "INSERT INTO segments (id, key, name, description, condition, version, created_at, "
    "updated_at, recompute_at) VALUES (:id, :key, :name, :description, CAST(:condition AS jsonb), "
    "1, now(), now(), now()) ON CONFLICT (key) DO NOTHING"
)


def upgrade() -> None:
    # Owners recorded before facts existed start from the defaults; projections fill them.
    op.execute("INSERT INTO owner_facts (owner_id, updated_at) SELECT id, now() FROM owners "
               "ON CONFLICT DO NOTHING")  # fmt: skip
    for segment in STANDARD_SEGMENTS:
        op.execute(
            _INSERT.bindparams(
                id=uuid.uuid4(),
                key=segment["key"],
                name=segment["name"],
                description=segment["description"],
                condition=json.dumps(segment["condition"]),
            )
        )


def downgrade() -> None:
    keys = [segment["key"] for segment in STANDARD_SEGMENTS]
    op.execute(sa.text("DELETE FROM segments WHERE key = ANY(:keys)").bindparams(keys=keys))
