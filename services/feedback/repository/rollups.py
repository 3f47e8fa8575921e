"""The analytics counts, rebuilt from the answers and invitations themselves.

The service keeps `score_rollups` and `topic_rollups` current in the transaction of every
answer and invitation; this rebuild fills them for data that predates them (a migration, a
bulk import) and is the reference the counts must always equal.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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

STATEMENTS = (
    "DELETE FROM score_rollups",
    "DELETE FROM topic_rollups",
    REBUILD_SCORES,
    REBUILD_TOPICS,
)


async def rebuild(session: AsyncSession) -> None:
    """Recounts everything (takes the tables' locks for the length of the transaction)."""
    await session.execute(text("LOCK TABLE score_rollups, topic_rollups IN EXCLUSIVE MODE"))
    for statement in STATEMENTS:
        await session.execute(text(statement))
