"""Feedback analytics on a million answers: dashboard queries against the kept counts, and
the same figures aggregated from the answers themselves (the naive baseline), in one run.

Starts its own PostgreSQL (embedded, in a temporary folder), migrates feedback's database,
loads the answers with COPY (one invitation each, plus unanswered invitations), builds the
counts with the service's own rebuild, then times each dashboard query as a request to
the feedback app in process (routing, caller check, SQL, serialisation) and the naive SQL
for the same figure. Prints p50 and p99 per
query and the naive-to-counted ratio; asserts nothing.

    python -m bench.feedback [--responses 1000000] [--runs 40] [--naive-runs 8]
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import text

from bench import summary
from cli.embedded import EmbeddedPostgres
from services.feedback.config import MIGRATIONS_DIR, FeedbackSettings
from services.feedback.domain import SurveyKind, score_band
from services.feedback.domain.analytics import Slice
from services.feedback.main import create_app
from services.feedback.repository import rollups
from shared.auth import CALLER_HEADER, Caller, CallerKind, StaffRole, sign_caller
from shared.config import DEV_INTERNAL_SECRET, CommonSettings, Environment
from shared.database import Database, service_url
from shared.migrations import upgrade

DEALERS = 200
MODELS = ("ET5", "ET7", "ES6", "ES8", "EC6", "EL7")
# touchpoint -> (survey kind, lifecycle stage, share of answers)
TOUCHPOINTS = {
    "order_delivered": ("nps", "delivery", 0.25),
    "service_visit_completed": ("csat", "usage_and_service", 0.45),
    "ticket_resolved": ("nps", "usage_and_service", 0.15),
    "call_centre_contact": ("nps", "usage_and_service", 0.15),
}
TOPICS = ("smart_key", "charging", "infotainment", "ota", "delivery", "service_quality")
TODAY = date(2026, 12, 1)
DAYS = 365
UNANSWERED_SHARE = 0.3  # invitations that got no answer, on top of the answered ones

STAFF = Caller(kind=CallerKind.STAFF, subject="bench@cem", roles=frozenset({StaffRole.ADMIN}))


def main() -> None:
    arguments = _arguments()
    with tempfile.TemporaryDirectory(prefix="cem-bench-feedback-") as folder:
        postgres = EmbeddedPostgres(Path(folder) / "postgres", durable=False).start()
        try:
            asyncio.run(_run(postgres.url, arguments))
        finally:
            postgres.stop()
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40, help="timed runs per counted query")
    parser.add_argument("--naive-runs", type=int, default=8, help="timed runs per naive query")
    summary.add_option(parser)
    return parser.parse_args()


async def _run(server_url: str, arguments: argparse.Namespace) -> None:
    settings = CommonSettings(
        environment=Environment.TEST,
        database_url=server_url,
        database_prefix=f"bench_{uuid.uuid4().hex[:8]}",
        log_level="WARNING",
    )
    await asyncio.to_thread(upgrade, "feedback", MIGRATIONS_DIR, settings)
    url = service_url(settings, "feedback")
    connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        started = time.perf_counter()
        loaded = await _load(connection, arguments.responses)
        # Marks the loaded pages all-visible, as autovacuum would in time on a live server:
        # the integrity report reads its window from an index alone only on such pages.
        await connection.execute("VACUUM (ANALYZE) responses, invitations")
        summary.record(responses=loaded)
        print(f"loaded {loaded:,} answers and their invitations with COPY in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    finally:
        await connection.close()
    database = Database(url, pool_size=2)
    try:
        started = time.perf_counter()
        async with database.transaction() as session:
            await rollups.rebuild(session)
        async with database.transaction() as session:
            await session.execute(text("ANALYZE"))
            cells = await session.scalar(text("SELECT count(*) FROM score_rollups"))
        print(f"counted into {cells:,} rows (day, week, month) in "
              f"{time.perf_counter() - started:.1f} s\n")  # fmt: skip
        await _measure(database, settings, arguments)
    finally:
        await database.dispose()


# Loading


async def _load(connection: asyncpg.Connection, responses: int) -> int:
    templates = {kind: uuid.uuid4() for kind in ("nps", "csat")}
    for kind, template_id in templates.items():
        await connection.execute(
            "INSERT INTO survey_templates (id, key, version, kind, title, questions, created_by, "
            "created_at) VALUES ($1, $2, 1, $3, '{}', '[]', 'bench', now())",
            template_id,
            f"bench_{kind}",
            kind,
        )
    random.seed(7)
    dealers = [uuid.uuid4() for _ in range(DEALERS)]
    answered: list[tuple] = []
    await connection.copy_records_to_table(
        "invitations",
        columns=INVITATION_COLUMNS,
        records=_invitations(responses, dealers, templates, answered),
    )
    await connection.copy_records_to_table(
        "responses", columns=RESPONSE_COLUMNS, records=_responses(answered, templates)
    )
    return len(answered)


INVITATION_COLUMNS = [
    "id", "template_id", "status", "touchpoint", "lifecycle_stage", "owner_id", "dealer_id",
    "model", "language", "source", "send_at", "sent_at", "answered_at", "created_by", "created_at",
]  # fmt: skip
RESPONSE_COLUMNS = [
    "id", "invitation_id", "template_id", "survey_key", "survey_version", "kind", "score", "band",
    "answers", "comment", "touchpoint", "lifecycle_stage", "owner_id", "dealer_id", "model",
    "language", "topics", "channel", "network_hash", "submitted_at",
]  # fmt: skip


def _invitations(
    responses: int, dealers: list[uuid.UUID], templates: dict, answered: list[tuple]
) -> Iterator[tuple]:
    """Invitations spread over a year; the answered ones are remembered for `_responses`."""
    names, weights = list(TOUCHPOINTS), [share for *_, share in TOUCHPOINTS.values()]
    start = datetime.combine(TODAY - timedelta(days=DAYS - 1), datetime.min.time(), UTC)
    # Sent up to three days before the end, so that every answer (within 72 h) is in the year.
    seconds = (DAYS - 3) * 86_400
    for number in range(responses + int(responses * UNANSWERED_SHARE)):
        touchpoint = random.choices(names, weights)[0]
        kind, stage, _ = TOUCHPOINTS[touchpoint]
        dealer, model = random.choice(dealers), random.choice(MODELS)
        sent = start + timedelta(seconds=random.randrange(seconds))
        invitation_id, owner_id = uuid.uuid4(), uuid.uuid4()
        is_answered = number < responses  # sent times are random, so order does not matter
        answered_at = sent + timedelta(hours=random.randrange(1, 72)) if is_answered else None
        if is_answered:
            answered.append((invitation_id, kind, touchpoint, stage, owner_id, dealer, model,
                             answered_at))  # fmt: skip
        yield (
            invitation_id, templates[kind], "answered" if is_answered else "sent", touchpoint,
            stage, owner_id, dealer, model, "zh", f"bench:{number}", sent, sent, answered_at,
            "bench", sent,
        )  # fmt: skip


def _responses(answered: list[tuple], templates: dict) -> Iterator[tuple]:
    for invitation_id, kind, touchpoint, stage, owner_id, dealer, model, at in answered:
        score = _score(kind, dealer)
        band = score_band(SurveyKind(kind), score)
        topics = _topics(band)
        comment = "bench comment" if topics else None
        yield (
            uuid.uuid4(), invitation_id, templates[kind], f"bench_{kind}", 1, kind, score, band,
            json.dumps({"score": score}), comment, touchpoint, stage, owner_id, dealer, model,
            "zh", json.dumps(topics), "link", f"{random.getrandbits(64):016x}", at,
        )  # fmt: skip


def _score(kind: str, dealer: uuid.UUID) -> int:
    # Each dealer leans a little better or worse than the network.
    lean = (dealer.int % 5) - 2
    if kind == "nps":
        return max(0, min(10, round(random.gauss(7.6 + lean * 0.4, 2.2))))
    return max(1, min(5, round(random.gauss(4.0 + lean * 0.15, 0.9))))


def _topics(band: str) -> list[str]:
    chance = 0.75 if band == "detractor" else 0.2
    if random.random() >= chance:
        return []
    return random.sample(TOPICS, random.choice((1, 1, 2)))


# Measuring


Query = Callable[[object], Awaitable[object]]


async def _measure(
    database: Database, settings: CommonSettings, arguments: argparse.Namespace
) -> None:
    """Each counted query is a real request to the feedback app (in process: routing,
    caller check, validation, SQL, serialisation); each naive one is its SQL alone."""
    dealer_id = await _first_dealer(database)
    dealer = Caller(kind=CallerKind.DEALER, subject="bench-dealer", dealer_id=dealer_id)
    year = {"start": "2025-12-01", "end": "2026-11-30"}
    half_year = {"start": (TODAY - timedelta(weeks=26)).isoformat(), "end": TODAY.isoformat()}
    quarter = {"start": (TODAY - timedelta(days=89)).isoformat(), "end": TODAY.isoformat()}
    month = {"start": (TODAY - timedelta(days=29)).isoformat(), "end": TODAY.isoformat()}
    cases: list[tuple[str, Caller, str, dict, Query | None]] = [
        ("staff: NPS by dealer, by month, 12 months", STAFF, "scores",
         year | {"period": "month", "by": "dealer_id"},
         lambda s: _naive_scores(s, _slice(year), "month", "dealer_id")),
        ("staff: NPS trend by week, 26 weeks", STAFF, "scores", half_year | {"period": "week"},
         lambda s: _naive_scores(s, _slice(half_year), "week", None)),
        ("staff: NPS trend by day, 90 days", STAFF, "scores", quarter | {"period": "day"},
         lambda s: _naive_scores(s, _slice(quarter), "day", None)),
        ("staff: NPS by model, by month, 12 months", STAFF, "scores",
         year | {"period": "month", "by": "model"},
         lambda s: _naive_scores(s, _slice(year), "month", "model")),
        ("dealer: CSAT by touchpoint, by day, 90 days", dealer, "scores",
         quarter | {"kind": "csat", "period": "day", "by": "touchpoint"},
         lambda s: _naive_scores(s, _slice(quarter, SurveyKind.CSAT, dealer_id), "day",
                                 "touchpoint")),
        ("staff: top detractor topics, 90 days", STAFF, "topics", quarter,
         lambda s: _naive_topics(s, _slice(quarter))),
        ("dealer: detractor verbatims, first page, 90 days", dealer, "verbatims",
         quarter | {"band": "detractor", "limit": 20}, None),
        ("staff: integrity report, 30 days", STAFF, "integrity", month, None),
    ]  # fmt: skip
    app = create_app(FeedbackSettings(**settings.model_dump()))
    transport = httpx.ASGITransport(app=app)
    print(f"{'query':<50}{'p50 ms':>9}{'p99 ms':>9}{'naive p50':>11}{'naive p99':>11}"
          f"{'ratio':>8}")  # fmt: skip
    try:
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for name, caller, path, params, naive in cases:
                request = _request(client, caller, f"/analytics/{path}", params)
                fast = await _timings(request, arguments.runs)
                slow = None
                if naive:
                    slow = await _timings(_in_transaction(database, naive), arguments.naive_runs)
                print(_line(name, fast, slow))
                summary.FIGURES.setdefault("queries", []).append(_figures(name, fast, slow))
    finally:
        await app.state.database.dispose()
    print("\nratio: naive p50 / counted p50, both measured in this run on the same data")
    # A shared machine skews every figure alike; the load says how much to trust them.
    load = ", ".join(f"{number:.1f}" for number in os.getloadavg())
    print(f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores")


BASE_URL = "http://feedback/v1/feedback"


def _slice(window: dict, kind: SurveyKind = SurveyKind.NPS, dealer_id=None) -> Slice:
    return Slice(
        kind=kind,
        first=date.fromisoformat(window["start"]),
        last=date.fromisoformat(window["end"]),
        dealer_id=dealer_id,
    )


def _request(client: httpx.AsyncClient, caller: Caller, path: str, params: dict):
    async def send() -> None:
        # A fresh token each time, as the gateway signs one per request.
        headers = {CALLER_HEADER: sign_caller(caller, DEV_INTERNAL_SECRET)}
        response = await client.get(path, params=params, headers=headers)
        response.raise_for_status()

    return send


def _in_transaction(database: Database, query: Query):
    async def run() -> None:
        async with database.transaction() as session:
            await query(session)

    return run


async def _first_dealer(database: Database) -> uuid.UUID:
    async with database.transaction() as session:
        return await session.scalar(
            text("SELECT dealer_id FROM responses GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        )


async def _timings(run: Callable[[], Awaitable[None]], runs: int) -> list[float]:
    await run()  # warm the caches once
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _figures(name: str, fast: list[float], slow: list[float] | None) -> dict:
    naive = statistics.median(slow) if slow else None
    return {"name": name, "p50_ms": _percentile(fast, 0.5), "p99_ms": _percentile(fast, 0.99),
            "naive_p50_ms": naive}  # fmt: skip


def _line(name: str, fast: list[float], slow: list[float] | None) -> str:
    p50, p99 = _percentile(fast, 0.5), _percentile(fast, 0.99)
    if not slow:
        return f"{name:<50}{p50:>9.1f}{p99:>9.1f}{'-':>11}{'-':>11}{'-':>8}"
    naive50, naive99 = statistics.median(slow), _percentile(slow, 0.99)
    return (f"{name:<50}{p50:>9.1f}{p99:>9.1f}{naive50:>11.1f}{naive99:>11.1f}"
            f"{naive50 / p50:>7.1f}x")  # fmt: skip


# The naive baseline: the same figures aggregated from the answers at query time


async def _naive_scores(session, part: Slice, grain: str, by: str | None):
    group = by or "NULL"
    window = _naive_window(part)
    answers = text(
        f"SELECT {group} AS key, date_trunc('{grain}', submitted_at AT TIME ZONE 'UTC')::date, "
        "count(*), sum((band = 'promoter')::int), sum((band = 'passive')::int), "
        "sum((band = 'detractor')::int), sum(score) FROM responses "
        f"WHERE kind = :kind AND {window} GROUP BY 1, 2"
    )
    sent = text(
        f"SELECT {'i.' + by if by else 'NULL'} AS key, "
        f"date_trunc('{grain}', i.sent_at AT TIME ZONE 'UTC')::date, count(*) "
        "FROM invitations i JOIN survey_templates t ON t.id = i.template_id "
        f"WHERE t.kind = :kind AND {window.replace('submitted_at', 'i.sent_at')} GROUP BY 1, 2"
    )
    parameters = _naive_parameters(part)
    return (
        (await session.execute(answers, parameters)).all(),
        (await session.execute(sent, parameters)).all(),
    )


async def _naive_topics(session, part: Slice):
    statement = text(
        "SELECT topic, count(*) FROM responses CROSS JOIN LATERAL "
        "jsonb_array_elements_text(topics) AS topic WHERE kind = :kind AND band = 'detractor' "
        f"AND {_naive_window(part)} GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
    )
    return (await session.execute(statement, _naive_parameters(part))).all()


def _naive_window(part: Slice) -> str:
    window = "submitted_at >= :first AND submitted_at < :after"
    return window + (" AND dealer_id = :dealer" if part.dealer_id else "")


def _naive_parameters(part: Slice) -> dict:
    def midnight(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), UTC)

    return {
        "kind": part.kind.value,
        "first": midnight(part.first),
        "after": midnight(part.last + timedelta(days=1)),
        "dealer": part.dealer_id,
    }
