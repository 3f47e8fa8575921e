"""Analytics (`/analytics/...`, for staff and dealers, each figure within the caller's
scope) and survey integrity (staff only): the suppression audit, coaching signals and the
dealers' registered networks."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.feedback.deps import AnalyticsSlice, Now
from services.feedback.domain import AUDITED_TOUCHPOINTS, ScoreBand
from services.feedback.domain.analytics import Period, Slice
from services.feedback.schemas.analytics import (
    DealerNetworkCreate,
    DealerNetworkRead,
    Dimension,
    IntegrityReport,
    ScoreReport,
    SuppressedTouchpointPage,
    SuppressionReport,
    TopicReport,
    VerbatimPage,
)
from services.feedback.service import analytics, integrity
from shared.dependencies import CurrentCaller, Paging, Session

router = APIRouter(tags=["analytics"])

TopicKey = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


@router.get("/analytics/scores", response_model=ScoreReport)
async def scores(
    session: Session,
    caller: CurrentCaller,
    part: AnalyticsSlice,
    period: Period = Period.MONTH,
    by: Dimension | None = None,
):
    """NPS or CSAT and response rate per period, broken down `by` one dimension, with the
    counts behind every figure; each group's series is its trend."""
    report = await analytics.scores(session, caller=caller, part=part, period=period, by=by)
    # Thousands of figures: serialised once, not validated again on the way out.
    return Response(report.model_dump_json(), media_type="application/json")


@router.get("/analytics/topics", response_model=TopicReport)
async def top_topics(
    session: Session,
    caller: CurrentCaller,
    part: AnalyticsSlice,
    band: ScoreBand = ScoreBand.DETRACTOR,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
):
    return await analytics.top_topics(session, caller=caller, part=part, band=band, limit=limit)


@router.get("/analytics/verbatims", response_model=VerbatimPage)
async def verbatims(
    session: Session,
    caller: CurrentCaller,
    part: AnalyticsSlice,
    paging: Paging,
    band: ScoreBand | None = None,
    topic: TopicKey = None,
):
    """The comments behind a figure (same filters), newest first."""
    items, total = await analytics.verbatims(
        session, caller=caller, part=part, page=paging, band=band, topic=topic
    )
    return VerbatimPage(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/analytics/integrity", response_model=IntegrityReport)
async def integrity_report(session: Session, caller: CurrentCaller, part: AnalyticsSlice):
    """Per dealer: top-box jumps against the window before, answers from the dealer's own
    or a shared network, and touchpoints that got no invitation."""
    return await integrity.integrity_report(
        session, caller=caller, part=part, touchpoints=_audited(part)
    )


@router.get("/analytics/suppression", response_model=SuppressionReport)
async def suppression_report(session: Session, caller: CurrentCaller, part: AnalyticsSlice):
    """Deliveries and service visits (or the `touchpoint` given) that got no invitation,
    by dealer and reason."""
    return await integrity.suppression_report(
        session, caller=caller, part=part, touchpoints=_audited(part)
    )


@router.get("/analytics/suppression/touchpoints", response_model=SuppressedTouchpointPage)
async def suppressed_touchpoints(
    session: Session,
    caller: CurrentCaller,
    part: AnalyticsSlice,
    paging: Paging,
    reason: Annotated[str | None, Query(max_length=32)] = None,
):
    items, total = await integrity.suppressed_touchpoints(
        session,
        caller=caller,
        part=part,
        touchpoints=_audited(part),
        page=paging,
        reason=reason,
    )
    return SuppressedTouchpointPage(
        items=items, total=total, limit=paging.limit, offset=paging.offset
    )


def _audited(part: Slice) -> list[str]:
    """The touchpoints an audit covers: the one asked for, else deliveries and visits."""
    return [part.touchpoint] if part.touchpoint else [str(t) for t in AUDITED_TOUCHPOINTS]


# The dealers' own networks


@router.post(
    "/dealers/{dealer_id}/networks",
    status_code=status.HTTP_201_CREATED,
    response_model=DealerNetworkRead,
)
async def add_dealer_network(
    dealer_id: uuid.UUID,
    body: DealerNetworkCreate,
    session: Session,
    caller: CurrentCaller,
    now: Now,
):
    return await integrity.add_dealer_network(
        session, caller=caller, dealer_id=dealer_id, data=body, now=now
    )


@router.get("/dealers/{dealer_id}/networks", response_model=list[DealerNetworkRead])
async def list_dealer_networks(dealer_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await integrity.list_dealer_networks(session, caller=caller, dealer_id=dealer_id)


@router.delete("/dealers/{dealer_id}/networks/{network_id}", status_code=204)
async def delete_dealer_network(
    dealer_id: uuid.UUID, network_id: uuid.UUID, session: Session, caller: CurrentCaller
):
    await integrity.delete_dealer_network(
        session, caller=caller, dealer_id=dealer_id, network_id=network_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
