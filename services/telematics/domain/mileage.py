"""When a vehicle reaches a mileage at its own pace: its next service, and a suspect part's
threshold (the campaign's targets)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.telematics.domain.settings import AnalysisSettings, QualitySettings


class DueReason(StrEnum):
    MILEAGE = "mileage"
    TIME = "time"


@dataclass(frozen=True)
class ServiceDue:
    due_date: date
    reason: DueReason


def service_due(
    *,
    today: date,
    mileage_km: float,
    km_per_day: float,
    last_service_date: date,
    last_service_km: float,
    settings: AnalysisSettings,
) -> ServiceDue:
    """The earlier of the time rule and the mileage rule at the vehicle's own pace."""
    by_time = last_service_date + timedelta(days=settings.service_interval_days)
    remaining_km = last_service_km + settings.service_interval_km - mileage_km
    if km_per_day <= 0:
        return ServiceDue(by_time, DueReason.TIME)
    days = max(math.ceil(remaining_km / km_per_day), 0)
    by_mileage = today + timedelta(days=min(days, 3650))
    if by_mileage < by_time:
        return ServiceDue(by_mileage, DueReason.MILEAGE)
    return ServiceDue(by_time, DueReason.TIME)


@dataclass(frozen=True)
class Candidate:
    """A vehicle still carrying the suspect part."""

    key: object
    mileage_km: float
    km_per_day: float


# Days reported for a vehicle that is not moving at all (last in line, never "infinite").
NEVER_DAYS = 3650.0


def days_to_threshold(candidate: Candidate, threshold_km: float) -> float:
    """Negative once past the threshold (the further past, the more urgent)."""
    remaining = threshold_km - candidate.mileage_km
    if remaining <= 0:
        return round(remaining / max(candidate.km_per_day, 1.0), 1)
    if candidate.km_per_day <= 0:
        return NEVER_DAYS
    return min(round(remaining / candidate.km_per_day, 1), NEVER_DAYS)


def campaign_targets(
    candidates: Sequence[Candidate], threshold_km: float, settings: QualitySettings
) -> list[tuple[Candidate, float]]:
    """Past the threshold, within the margin below it, or reaching it within the lead time;
    most urgent first."""
    chosen = []
    for candidate in candidates:
        days = days_to_threshold(candidate, threshold_km)
        within_margin = candidate.mileage_km >= threshold_km - settings.target_margin_km
        if within_margin or days <= settings.target_lead_days:
            chosen.append((candidate, days))
    return sorted(chosen, key=lambda pair: pair[1])
