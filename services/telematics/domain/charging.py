"""Charging sessions from a vehicle's points: energy, peak power, fast or slow, cost."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from services.telematics.domain.points import GAP_SECONDS, Point, Segment
from services.telematics.domain.points import delta as _delta
from services.telematics.domain.points import gap as _gap
from services.telematics.domain.settings import AnalysisSettings, Tariff


def segment_charging(points: Sequence[Point], now: datetime) -> list[Segment]:
    """Sessions: runs of points reporting IsCharging, ended by a point that is not charging or
    by a 3,600 s gap; the last one stays open while it could still go on."""
    sessions: list[Segment] = []
    run: list[Point] = []
    for point in points:
        if run and (_gap(run[-1], point) >= GAP_SECONDS or point.is_charging is False):
            sessions.append(Segment(run, closed=True))
            run = []
        if point.is_charging:
            run.append(point)
    if run:
        sessions.append(Segment(run, closed=(now - run[-1].ts).total_seconds() >= GAP_SECONDS))
    return sessions


@dataclass(frozen=True)
class ChargingFacts:
    started_at: datetime
    ended_at: datetime
    start_soc: float
    end_soc: float
    energy_kwh: float
    peak_power_kw: float
    fast: bool
    cost: float
    currency: str
    latitude: float | None
    longitude: float | None


def _integrated_kwh(points: Sequence[Point]) -> float:
    """Energy from the power samples (trapezoids), when the battery reports no counter."""
    total = 0.0
    for earlier, later in pairwise(points):
        if earlier.battery_power_w is not None and later.battery_power_w is not None:
            mean_w = (earlier.battery_power_w + later.battery_power_w) / 2
            total += max(mean_w, 0.0) * _gap(earlier, later) / 3_600_000
    return total


def charging_cost(energy_kwh: float, fast: bool, tariff: Tariff) -> float:
    price = tariff.fast_price_per_kwh if fast else tariff.price_per_kwh
    return round(energy_kwh * price + tariff.session_fee, 2)


def charging_facts(session: Segment, settings: AnalysisSettings) -> ChargingFacts | None:
    points = session.points
    socs = [p.soc for p in points if p.soc is not None]
    if len(points) < 2 or not socs:
        return None
    counter = _delta([p.charged_kwh for p in points if p.charged_kwh is not None])
    energy = counter if counter is not None else _integrated_kwh(points)
    powers = [p.battery_power_w for p in points if p.battery_power_w is not None]
    peak_kw = max(powers, default=0.0) / 1000
    fast = peak_kw >= settings.fast_charging_kw
    located = next((p for p in points if p.latitude is not None), None)
    return ChargingFacts(
        started_at=session.started_at,
        ended_at=session.ended_at,
        start_soc=socs[0],
        end_soc=socs[-1],
        energy_kwh=round(energy, 3),
        peak_power_kw=round(peak_kw, 2),
        fast=fast,
        cost=charging_cost(energy, fast, settings.tariff),
        currency=settings.tariff.currency,
        latitude=located.latitude if located else None,
        longitude=located.longitude if located else None,
    )
