"""Diagnostic trouble codes: which were raised and which cleared, report by report."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.telematics.domain.points import Point


@dataclass(frozen=True)
class FaultChange:
    code: str
    raised: bool  # False: cleared
    at: datetime
    mileage_km: float | None


def fault_changes(points: Sequence[Point], active: set[str]) -> list[FaultChange]:
    """Each report of the active code list against the codes active before it."""
    changes: list[FaultChange] = []
    active = set(active)
    mileage: float | None = None
    for point in points:
        if point.odometer_m is not None:
            mileage = point.odometer_m / 1000
        if point.dtcs is None:
            continue
        reported = set(point.dtcs)
        for code in sorted(reported - active):
            changes.append(FaultChange(code, True, point.ts, mileage))
        for code in sorted(active - reported):
            changes.append(FaultChange(code, False, point.ts, mileage))
        active = reported
    return changes
