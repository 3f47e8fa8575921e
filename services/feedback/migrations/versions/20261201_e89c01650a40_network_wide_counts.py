"""count every answer for all dealers together too, and count what predates the rollups

Revision ID: e89c01650a40
Revises: 940621329a96
Create Date: 2026-12-01 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e89c01650a40"
down_revision: str | None = "940621329a96"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CELL = ["grain", "period_start", "all_dealers", "dealer_id", "touchpoint", "lifecycle_stage",
        "model", "kind"]  # fmt: skip
TABLES = {"score_rollups": CELL, "topic_rollups": [*CELL, "band", "topic"]}

# The recount as it stands at this revision (frozen here: later revisions may change the
# tables; `services.feedback.repository.rollups` keeps the current one).
# Each row counts in its day, week and month, for its dealer and for all dealers together.
GRAINS = (
    "(VALUES ('day'), ('week'), ('month')) AS g(grain) "
    "CROSS JOIN (VALUES (false), (true)) AS a(all_dealers)"
)
PERIOD = "date_trunc(g.grain, x.at AT TIME ZONE 'UTC')::date"
CELL = (
    "a.all_dealers, CASE WHEN a.all_dealers THEN NULL ELSE x.dealer_id END, x.touchpoint, "
    "x.lifecycle_stage, x.model, x.kind"
)

REBUILD_SCORES = f"""
INSERT INTO score_rollups (grain, period_start, all_dealers, dealer_id, touchpoint,
    lifecycle_stage, model, kind, invited, responses, promoters, passives, detractors, top_box,
    score_sum, from_dealer_network)
SELECT g.grain, {PERIOD}, {CELL}, sum(x.invited), sum(x.responses), sum(x.promoters),
    sum(x.passives), sum(x.detractors), sum(x.top_box), sum(x.score_sum),
    sum(x.from_dealer_network)
FROM (
    SELECT i.sent_at AS at, i.dealer_id, i.touchpoint, i.lifecycle_stage, i.model, t.kind,
        1 AS invited, 0 AS responses, 0 AS promoters, 0 AS passives, 0 AS detractors,
        0 AS top_box, 0 AS score_sum, 0 AS from_dealer_network
    FROM invitations i JOIN survey_templates t ON t.id = i.template_id
    WHERE i.sent_at IS NOT NULL
    UNION ALL
    SELECT r.submitted_at, r.dealer_id, r.touchpoint, r.lifecycle_stage, r.model, r.kind,
        0, 1, (r.band = 'promoter')::int, (r.band = 'passive')::int,
        (r.band = 'detractor')::int,
        (r.score = CASE r.kind WHEN 'nps' THEN 10 WHEN 'csat' THEN 5 END)::int,
        coalesce(r.score, 0), r.from_dealer_network::int
    FROM responses r
) AS x CROSS JOIN {GRAINS}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""

REBUILD_TOPICS = f"""
INSERT INTO topic_rollups (grain, period_start, all_dealers, dealer_id, touchpoint,
    lifecycle_stage, model, kind, band, topic, mentions)
SELECT g.grain, {PERIOD}, {CELL}, x.band, x.topic, count(*)
FROM (
    SELECT DISTINCT r.id, r.submitted_at AS at, r.dealer_id, r.touchpoint, r.lifecycle_stage,
        r.model, r.kind, r.band, topic.value AS topic
    FROM responses r CROSS JOIN LATERAL jsonb_array_elements_text(r.topics) AS topic(value)
    WHERE r.band IS NOT NULL
) AS x CROSS JOIN {GRAINS}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""


def upgrade() -> None:
    for table, cell in TABLES.items():
        op.execute(f"DELETE FROM {table}")
        op.add_column(
            table, sa.Column("all_dealers", sa.Boolean(), nullable=False, server_default="false")
        )
        op.drop_constraint(f"uq_{table}_cell", table, type_="unique")
        op.drop_index(f"ix_{table}_period", table_name=table)
        op.create_unique_constraint(
            f"uq_{table}_cell", table, cell, postgresql_nulls_not_distinct=True
        )
        op.create_index(
            f"ix_{table}_period", table, ["grain", "kind", "all_dealers", "period_start"]
        )
    op.execute(REBUILD_SCORES)
    op.execute(REBUILD_TOPICS)


def downgrade() -> None:
    for table, cell in TABLES.items():
        op.execute(f"DELETE FROM {table} WHERE all_dealers")
        op.drop_constraint(f"uq_{table}_cell", table, type_="unique")
        op.drop_index(f"ix_{table}_period", table_name=table)
        op.drop_column(table, "all_dealers")
        without = [name for name in cell if name != "all_dealers"]
        op.create_unique_constraint(
            f"uq_{table}_cell", table, without, postgresql_nulls_not_distinct=True
        )
        op.create_index(f"ix_{table}_period", table, ["grain", "kind", "period_start"])
