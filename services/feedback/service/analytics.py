"""Analytics: NPS, CSAT and response rate by dealer, touchpoint, lifecycle stage, model and
period, with the counts behind each figure; top topics in a band; the verbatims behind a
figure. Dealers see their own dealership's figures, staff all (regional staff their region).
"""

import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.domain import ScoreBand, ScoreFigure, SurveyKind
from services.feedback.domain.analytics import (
    MAX_PERIODS,
    Period,
    Slice,
    period_starts,
    window_problem,
)
from services.feedback.errors import DealerNotFound
from services.feedback.models import KnownDealer
from services.feedback.repository import FeedbackRepository
from services.feedback.repository.analytics import SCORE_COUNTS, AnalyticsRepository, Counts
from services.feedback.schemas.analytics import (
    Dimension,
    Figure,
    PeriodFigure,
    ScoreGroup,
    ScoreReport,
    TopicCount,
    TopicReport,
    VerbatimRead,
)
from shared.auth import Caller, CallerKind
from shared.errors import Forbidden, InvalidInput
from shared.pagination import PageParams

DEFAULT_DAYS = 90


async def scoped_slice(
    session: AsyncSession,
    caller: Caller,
    *,
    kind: SurveyKind,
    start: date | None,
    end: date | None,
    today: date,
    dealer_id: uuid.UUID | None = None,
    **filters: str | None,
) -> Slice:
    """The slice a caller asked for, checked: a dealer's figures are its own, and a dealer
    the caller may not see is a 404, as its records would be."""
    require_analytics_reader(caller)
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if problem := window_problem(start, end):
        raise InvalidInput.for_field(*problem)
    if caller.kind is CallerKind.DEALER:
        if dealer_id is not None and dealer_id not in caller.visible_dealer_ids:
            raise DealerNotFound(f"Dealer {dealer_id} not found")
        dealer_id = dealer_id or caller.dealer_id  # a group's figures span its dealers
    elif dealer_id and caller.region:
        dealer = await FeedbackRepository(session).get(KnownDealer, dealer_id)
        if dealer is None or dealer.region != caller.region:
            raise DealerNotFound(f"Dealer {dealer_id} not found")
    return Slice(kind=kind, first=start, last=end, dealer_id=dealer_id, **filters)


def require_analytics_reader(caller: Caller) -> None:
    if caller.kind not in (CallerKind.STAFF, CallerKind.DEALER):
        raise Forbidden("Analytics are for staff and dealers")


async def scores(
    session: AsyncSession, *, caller: Caller, part: Slice, period: Period, by: Dimension | None
) -> ScoreReport:
    starts = period_starts(period, part.first, part.last)
    if len(starts) > MAX_PERIODS:
        raise InvalidInput.for_field(
            "query.period", f"{len(starts)} {period}s are too many; at most {MAX_PERIODS}"
        )
    rows = await AnalyticsRepository(session).score_rows(
        caller, part, period, by.value if by else None
    )
    by_group: dict[object, dict[date, Counts]] = defaultdict(dict)
    for key, start, counts in rows:
        by_group[key][start] = counts
    staff = caller.is_staff
    groups = [
        ScoreGroup(
            key=None if key is None else str(key),
            total=Figure(**_figure_values(part.kind, list(series.values()), staff)),
            series=[
                # Computed here, not input: no validation needed.
                PeriodFigure.model_construct(
                    period_start=start,
                    **_figure_values(part.kind, [series[start]] if start in series else [], staff),
                )
                for start in starts
            ],
        )
        for key, series in by_group.items()
    ]
    groups.sort(key=lambda group: (-group.total.responses, group.key or ""))
    return ScoreReport(
        kind=part.kind,
        period=period,
        start=starts[0] if starts else part.first,
        end=part.last,
        by=by,
        total=Figure(**_figure_values(part.kind, [counts for *_, counts in rows], staff)),
        groups=groups,
    )


def _figure_values(kind: SurveyKind, counted: list[Counts], staff: bool) -> dict:
    """A figure's fields from counted rows: the score, average and response rate, with the
    counts behind them."""
    sums = [sum(column) for column in zip(*counted, strict=True)] if counted else None
    counts = dict(zip(SCORE_COUNTS, sums or [0] * len(SCORE_COUNTS), strict=True))
    answered, invited = counts["responses"], counts["invited"]
    scored = ScoreFigure(
        kind=kind,
        responses=counts["promoters"] + counts["passives"] + counts["detractors"],
        promoters=counts["promoters"],
        passives=counts["passives"],
        detractors=counts["detractors"],
    )
    network = counts.pop("from_dealer_network")
    score_sum = counts.pop("score_sum")
    return counts | {
        "score": scored.value,
        "average": round(score_sum / scored.responses, 2) if scored.responses else None,
        "response_rate": round(answered / invited, 3) if invited else None,
        "from_dealer_network": network if staff else None,
    }


async def top_topics(
    session: AsyncSession, *, caller: Caller, part: Slice, band: ScoreBand, limit: int
) -> TopicReport:
    """The topics most named by the answers of a band (detractors, by default)."""
    analytics = AnalyticsRepository(session)
    rows = await analytics.topic_rows(caller, part, band, limit)
    counted = await analytics.score_totals(caller, part, None)
    totals = _figure_values(part.kind, [counts for _, counts in counted], staff=False)
    answers = totals[f"{band.value}s"]
    names = {topic.key: topic for topic in await FeedbackRepository(session).topics()}
    return TopicReport(
        kind=part.kind,
        band=band,
        start=part.first,
        end=part.last,
        answers=answers,
        topics=[
            TopicCount(
                topic=row.topic,
                name_en=names[row.topic].name_en if row.topic in names else None,
                name_zh=names[row.topic].name_zh if row.topic in names else None,
                mentions=row.mentions,
                share=round(row.mentions / answers, 3) if answers else None,
            )
            for row in rows
        ],
    )


async def verbatims(
    session: AsyncSession,
    *,
    caller: Caller,
    part: Slice,
    page: PageParams,
    band: ScoreBand | None,
    topic: str | None,
) -> tuple[list[VerbatimRead], int]:
    """The comments behind a figure: the same slice, newest first."""
    rows, total = await AnalyticsRepository(session).verbatims(
        caller, part, page, band=band, topic=topic
    )
    return [VerbatimRead.model_validate(row) for row in rows], total
