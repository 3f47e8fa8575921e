"""Survey integrity, for the car maker's staff: which touchpoints never got an invitation
(by dealer), which dealers' answers rush to the top box or come from their own premises,
and the dealers' registered networks that the second signal is measured against."""

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.domain.analytics import (
    IntegrityCounts,
    Slice,
    coaching_flags,
    top_box_jump_z,
)
from services.feedback.errors import DealerNetworkNotFound, DuplicateDealerNetwork
from services.feedback.models import DealerNetwork
from services.feedback.repository import FeedbackRepository
from services.feedback.repository.analytics import SCORE_COUNTS, AnalyticsRepository
from services.feedback.repository.integrity import IntegrityRepository
from services.feedback.schemas.analytics import (
    DealerIntegrity,
    DealerNetworkCreate,
    DealerSuppression,
    IntegrityReport,
    SuppressedTouchpointRead,
    SuppressionReport,
)
from services.feedback.service.access import require_config_reader, require_configurer
from shared.auth import Caller
from shared.pagination import PageParams


async def integrity_report(
    session: AsyncSession, *, caller: Caller, part: Slice, touchpoints: list[str]
) -> IntegrityReport:
    """Per dealer: the top-box share against the window before, answers from the dealer's
    own networks or from one network shared by many owners, and uninvited touchpoints."""
    require_config_reader(caller)
    analytics, integrity = AnalyticsRepository(session), IntegrityRepository(session)
    baseline = part.baseline()
    current = await _per_dealer(analytics, caller, part)
    previous = await _per_dealer(analytics, caller, baseline)
    shared = await integrity.shared_network_answers(caller, part)
    window = (caller, part.first, part.last, touchpoints, part.dealer_id)
    touched = await integrity.touchpoint_totals(*window)
    uninvited = _uninvited(await integrity.suppression_counts(*window))
    dealers = []
    for dealer_id in current.keys() | touched.keys():
        answers, top, network = current.get(dealer_id, (0, 0, 0))
        baseline_answers, baseline_top, _ = previous.get(dealer_id, (0, 0, 0))
        counts = IntegrityCounts(
            answers=answers,
            top_box=top,
            baseline_answers=baseline_answers,
            baseline_top_box=baseline_top,
            from_dealer_network=network,
            from_shared_network=shared.get(dealer_id, 0),
        )
        dealers.append(_dealer_integrity(dealer_id, counts, touched, uninvited))
    dealers.sort(key=lambda dealer: (-len(dealer.flags), -dealer.answers, str(dealer.dealer_id)))
    return IntegrityReport(
        kind=part.kind,
        start=part.first,
        end=part.last,
        baseline_start=baseline.first,
        baseline_end=baseline.last,
        dealers=dealers,
    )


INTEGRITY_COUNTS = ("responses", "top_box", "from_dealer_network")


async def _per_dealer(analytics: AnalyticsRepository, caller: Caller, part: Slice) -> dict:
    """Per dealer: (answers, top-box answers, answers from the dealer's own networks)."""
    counted = dict(zip(SCORE_COUNTS, range(len(SCORE_COUNTS)), strict=True))
    return {
        dealer_id: tuple(counts[counted[name]] for name in INTEGRITY_COUNTS)
        for dealer_id, counts in await analytics.score_totals(caller, part, "dealer_id")
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _dealer_integrity(
    dealer_id, counts: IntegrityCounts, touched: dict, uninvited: dict
) -> DealerIntegrity:
    return DealerIntegrity(
        dealer_id=dealer_id,
        answers=counts.answers,
        top_box=counts.top_box,
        top_box_share=_share(counts.top_box, counts.answers),
        baseline_answers=counts.baseline_answers,
        baseline_top_box=counts.baseline_top_box,
        baseline_top_box_share=_share(counts.baseline_top_box, counts.baseline_answers),
        top_box_jump_z=round(
            top_box_jump_z(
                counts.top_box, counts.answers, counts.baseline_top_box, counts.baseline_answers
            ),
            2,
        ),
        from_dealer_network=counts.from_dealer_network,
        from_shared_network=counts.from_shared_network,
        touchpoints=touched.get(dealer_id, 0),
        uninvited_touchpoints=sum(uninvited.get(dealer_id, {}).values()),
        flags=coaching_flags(counts),
    )


def _uninvited(rows) -> dict:
    by_dealer: dict = defaultdict(dict)
    for row in rows:
        by_dealer[row.dealer_id][row.reason] = row.touchpoints
    return by_dealer


async def suppression_report(
    session: AsyncSession, *, caller: Caller, part: Slice, touchpoints: list[str]
) -> SuppressionReport:
    """Touchpoints (deliveries and service visits by default) that never got an invitation,
    counted by dealer and reason."""
    require_config_reader(caller)
    integrity = IntegrityRepository(session)
    window = (caller, part.first, part.last, touchpoints, part.dealer_id)
    uninvited = _uninvited(await integrity.suppression_counts(*window))
    touched = await integrity.touchpoint_totals(*window)
    dealers = [
        DealerSuppression(
            dealer_id=dealer_id,
            touchpoints=touched.get(dealer_id, 0),
            uninvited=sum(reasons.values()),
            reasons=reasons,
        )
        for dealer_id, reasons in uninvited.items()
    ]
    dealers.sort(key=lambda dealer: (-dealer.uninvited, str(dealer.dealer_id)))
    return SuppressionReport(
        start=part.first, end=part.last, touchpoints=touchpoints, dealers=dealers
    )


async def suppressed_touchpoints(
    session: AsyncSession,
    *,
    caller: Caller,
    part: Slice,
    touchpoints: list[str],
    page: PageParams,
    reason: str | None,
) -> tuple[list[SuppressedTouchpointRead], int]:
    require_config_reader(caller)
    rows, total = await IntegrityRepository(session).suppressed_touchpoints(
        caller, part.first, part.last, touchpoints, page, dealer_id=part.dealer_id, reason=reason
    )
    items = [
        SuppressedTouchpointRead(
            **{
                name: getattr(record, name)
                for name in SuppressedTouchpointRead.model_fields
                if name != "reason"
            },
            reason=why,
        )
        for record, why in rows
    ]
    return items, total


# The dealers' own networks


async def add_dealer_network(
    session: AsyncSession,
    *,
    caller: Caller,
    dealer_id: uuid.UUID,
    data: DealerNetworkCreate,
    now: datetime,
) -> DealerNetwork:
    require_configurer(caller)
    network = DealerNetwork(
        dealer_id=dealer_id,
        cidr=str(data.cidr),
        label=data.label,
        created_by=caller.subject,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            return await FeedbackRepository(session).add(network)
    except IntegrityError as error:
        raise DuplicateDealerNetwork(f"{data.cidr} is already registered") from error


async def list_dealer_networks(
    session: AsyncSession, *, caller: Caller, dealer_id: uuid.UUID
) -> list[DealerNetwork]:
    require_config_reader(caller)
    return list(await FeedbackRepository(session).dealer_networks(dealer_id))


async def delete_dealer_network(
    session: AsyncSession, *, caller: Caller, dealer_id: uuid.UUID, network_id: uuid.UUID
) -> None:
    require_configurer(caller)
    repository = FeedbackRepository(session)
    network = await repository.get(DealerNetwork, network_id, for_update=True)
    if network is None or network.dealer_id != dealer_id:
        raise DealerNetworkNotFound(f"Network {network_id} not found")
    await repository.delete(network)
