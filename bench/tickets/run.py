"""Tickets: the SLA report and the SLA worker, on a realistic volume of cases.

Starts an embedded PostgreSQL, migrates tickets' database and fills it with `--cases` cases
spread over 90 days, 40 dealers, 6 queues and every kind, with their SLA clocks (some met,
some breached, some running) and workshop pauses. Then measures, in the same run:

- the SLA report (by dealer and week, over the whole range) as the service computes it,
  grouped in PostgreSQL, against a baseline that loads the cases, clocks and pauses and
  tallies them in Python; both must give the same rows;
- the SLA worker firing `--due` breached timers with batches of 100 (the default) against
  batches of 1.

Prints medians over `--rounds`; asserts nothing about time.

    python -m bench.tickets [--cases 20000] [--due 1000] [--rounds 5]
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

from bench import summary
from cli.embedded import EmbeddedPostgres
from services.tickets.config import MIGRATIONS_DIR, TicketsSettings
from services.tickets.domain import OPEN_STATUSES, PauseReason, TicketKind, TicketStatus
from services.tickets.models import SlaClockRow, Ticket, TicketPause
from services.tickets.schemas.reports import Compliance, ReportGroup, ReportPeriod
from services.tickets.service.reports import Tally, sla_report
from services.tickets.timers import SlaWorker
from shared.auth import Caller, CallerKind, StaffRole
from shared.config import Environment
from shared.database import Database, service_url
from shared.migrations import upgrade

STAFF = Caller(kind=CallerKind.STAFF, subject="bench@cem", roles=frozenset({StaffRole.ADMIN}))
NOW = datetime(2026, 6, 30, tzinfo=UTC)
SINCE = NOW - timedelta(days=90)
DEALERS = [uuid.uuid4() for _ in range(40)]
QUEUES = ["first_line", "dealer_service", "product_software", "sales", "roadside", "quality"]


def main() -> None:
    arguments = _arguments()
    with tempfile.TemporaryDirectory(prefix="cem-bench-tickets-") as folder:
        with EmbeddedPostgres(Path(folder) / "postgres", durable=False) as postgres:
            settings = TicketsSettings(
                environment=Environment.LOCAL,
                database_url=postgres.url,
                database_prefix=f"cembench_{uuid.uuid4().hex[:8]}",
            )
            upgrade("tickets", MIGRATIONS_DIR, settings)
            asyncio.run(_bench(service_url(settings, "tickets"), arguments))
    summary.write(arguments.json)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--due", type=int, default=1_000, help="timers each worker run fires")
    parser.add_argument("--rounds", type=int, default=5)
    summary.add_option(parser)
    return parser.parse_args()


async def _bench(url, arguments: argparse.Namespace) -> None:
    database = Database(url)
    try:
        started = time.perf_counter()
        await _seed(database, arguments.cases, random.Random(7))
        summary.record(cases=arguments.cases)
        print(f"seeded {arguments.cases} cases in {time.perf_counter() - started:.1f} s")
        await _bench_report(database, arguments.rounds)
        await _bench_worker(database, arguments.due, arguments.rounds)
    finally:
        await database.dispose()


# Data


async def _seed(database: Database, count: int, rng: random.Random) -> None:
    tickets, clocks, pauses = [], [], []
    for number in range(count):
        ticket, ticket_clocks, ticket_pauses = _case(rng, number)
        tickets.append(ticket)
        clocks.extend(ticket_clocks)
        pauses.extend(ticket_pauses)
    async with database.transaction() as session:
        for table, rows in ((Ticket, tickets), (SlaClockRow, clocks), (TicketPause, pauses)):
            for start in range(0, len(rows), 2_000):
                await session.execute(insert(table), rows[start : start + 2_000])


def _case(rng: random.Random, number: int) -> tuple[dict, list[dict], list[dict]]:
    created = SINCE + timedelta(seconds=rng.uniform(0, 89 * 86_400))
    status = rng.choice(list(TicketStatus))
    resolved = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    ticket_id = uuid.uuid4()
    ticket = {
        "id": ticket_id, "kind": rng.choice(list(TicketKind)), "status": status,
        "priority": "normal", "channel": "app", "subject": "Case", "description": "Text",
        "dealer_id": rng.choice(DEALERS), "queue": rng.choice(QUEUES), "created_by": "bench",
        "created_at": created, "updated_at": created, "source_context": {},
        "resolved_at": created + timedelta(hours=rng.uniform(1, 96)) if resolved else None,
        "reopen_count": 1 if rng.random() < 0.08 else 0,
    }  # fmt: skip
    clocks = [_clock(rng, ticket_id, kind, created, resolved) for kind in _CLOCK_TARGETS]
    pauses = [_pause(rng, ticket_id, created) for _ in range(rng.choice((0, 0, 1, 2)))]
    return ticket, clocks, pauses


def _pause(rng: random.Random, ticket_id: uuid.UUID, created: datetime) -> dict:
    """A workshop pause from an hour in; one in five is still going."""
    ended = created + timedelta(hours=rng.uniform(2, 30)) if rng.random() < 0.8 else None
    return {
        "id": uuid.uuid4(),
        "ticket_id": ticket_id,
        "reason": rng.choice(list(PauseReason)),
        "started_at": created + timedelta(hours=1),
        "ended_at": ended,
    }


_CLOCK_TARGETS = {"first_response": 4 * 3600, "resolution": 72 * 3600}


def _clock(rng, ticket_id, kind: str, created: datetime, resolved: bool) -> dict:
    target = _CLOCK_TARGETS[kind]
    used = rng.uniform(0.2, 1.4) * target
    done = resolved or kind == "first_response"
    breached = used > target and rng.random() < 0.9
    return {
        "ticket_id": ticket_id, "kind": kind, "target_seconds": target,
        "consumed_seconds": used if done else 0.0,
        "running_since": None if done else created,
        "stopped_at": created + timedelta(seconds=used) if done else None,
        "breached_at": created + timedelta(seconds=target) if breached else None,
        "due_at": None if done else created + timedelta(seconds=target),
    }  # fmt: skip


# The report


async def _service_report(database: Database) -> list:
    async with database.transaction() as session:
        report = await sla_report(
            session, caller=STAFF, group_by=ReportGroup.DEALER, period=ReportPeriod.WEEK,
            time_zone="UTC", since=SINCE, until=NOW, filters={}, now=NOW,
        )  # fmt: skip
    return report.rows


async def _python_report(database: Database) -> list:
    """The baseline: every row to the application, tallied there."""
    async with database.transaction() as session:
        columns = (Ticket.id, Ticket.dealer_id, Ticket.created_at, Ticket.status,
                   Ticket.resolved_at, Ticket.reopen_count)  # fmt: skip
        in_range = (Ticket.created_at >= SINCE, Ticket.created_at < NOW)
        tickets = (await session.execute(select(*columns).where(*in_range))).all()
        clocks = (await session.execute(select(SlaClockRow))).scalars().all()
        pauses = (await session.execute(select(TicketPause))).scalars().all()
    cells: dict = defaultdict(Tally)
    key_of = {}
    for ticket_id, dealer, created, status, resolved_at, reopens in tickets:
        key_of[ticket_id] = key = (str(dealer), _week(created))
        _count_case(cells[key], status, created, resolved_at, reopens)
    for clock in clocks:
        if clock.ticket_id in key_of:
            _count_clock(cells[key_of[clock.ticket_id]], clock)
    for pause in pauses:
        if pause.ticket_id in key_of:
            span = ((pause.ended_at or NOW) - pause.started_at).total_seconds()
            cells[key_of[pause.ticket_id]].paused_seconds[pause.reason] += span
    return [cells[key].row(*key) for key in sorted(cells, key=lambda k: (k[1], k[0]))]


def _week(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _count_case(cell: Tally, status, created, resolved_at, reopens) -> None:
    cell.opened += 1
    cell.backlog += status in OPEN_STATUSES
    cell.reopened += reopens > 0
    cell.resolved_once += resolved_at is not None or reopens > 0
    if resolved_at is not None:
        cell.resolved += 1
        cell.resolve_seconds += (resolved_at - created).total_seconds()


def _count_clock(cell: Tally, clock: SlaClockRow) -> None:
    over = clock.consumed_seconds > clock.target_seconds
    counts = cell.clocks.get(clock.kind, Compliance())
    met = clock.stopped_at is not None and clock.breached_at is None and not over
    breached = clock.breached_at is not None or (clock.stopped_at is not None and over)
    cell.clocks[clock.kind] = Compliance(met=counts.met + met, breached=counts.breached + breached)


async def _bench_report(database: Database, rounds: int) -> None:
    service, baseline = await _service_report(database), await _python_report(database)
    same = [row.model_dump() for row in service] == [row.model_dump() for row in baseline]
    print(f"\nSLA report by dealer and week: {len(service)} rows; same as baseline: {same}")
    timings = {}
    for name, run in (("python baseline", _python_report), ("grouped in sql", _service_report)):
        timings[name] = await _median(rounds, lambda run=run: run(database))
        print(f"  {name:<16} {timings[name] * 1000:8.1f} ms")
    ratio = timings["python baseline"] / timings["grouped in sql"]
    print(f"  the service's report is {ratio:.1f}x faster than the baseline")
    summary.record(report_seconds=timings, report_rows=len(service), report_same=same)


async def _median(rounds: int, action) -> float:
    durations = []
    for _ in range(rounds):
        started = time.perf_counter()
        await action()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


# The SLA worker


async def _arm(database: Database, due: int) -> None:
    """Makes `due` running clocks due now (and unbreached), on cases at no dealer."""
    async with database.transaction() as session:
        await session.execute(text("UPDATE sla_clocks SET due_at = NULL WHERE breached_at IS NULL"))
        await session.execute(
            text(
                "UPDATE sla_clocks SET due_at = :due, breached_at = NULL, stopped_at = NULL,"
                " running_since = :due WHERE (ticket_id, kind) IN (SELECT ticket_id, kind"
                " FROM sla_clocks ORDER BY ticket_id, kind LIMIT :n)"
            ),
            {"due": SINCE, "n": due},
        )


async def _bench_worker(database: Database, due: int, rounds: int) -> None:
    print(f"\nSLA worker firing {due} due timers (breach, escalation, history, event each)")
    rates = {}
    for batch in (1, 100):
        worker = SlaWorker(database, clock=lambda: NOW, batch=batch)
        durations = []
        for _ in range(rounds):
            await _arm(database, due)
            started = time.perf_counter()
            fired = await worker.run_once()
            durations.append(time.perf_counter() - started)
            assert fired == due, f"fired {fired} of {due}"
        rates[batch] = due / statistics.median(durations)
        print(f"  batch {batch:>3}: {rates[batch]:8.0f} timers/s")
    print(f"  batches of 100 fire {rates[100] / rates[1]:.1f}x as many per second as batches of 1")
    summary.record(worker_timers_per_second=rates, due=due)
