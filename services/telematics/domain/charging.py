"""Charging sessions' facts, kept point by point: energy (the battery's counter, else the
integrated power), peak power, fast or slow, cost from the tariff, where it happened."""

from dataclasses import dataclass
from datetime import datetime

from services.telematics.domain.points import Point, first_or, increase, seconds_between
from services.telematics.domain.settings import AnalysisSettings, Tariff


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


@dataclass(slots=True)
class ChargingTally:
    """What a session's facts need of its points (those reporting IsCharging)."""

    started_at: datetime | None = None
    ended_at: datetime | None = None
    points: int = 0
    first_soc: float | None = None
    last_soc: float | None = None
    first_charged_kwh: float | None = None
    last_charged_kwh: float | None = None
    charged_readings: int = 0
    # Energy from the power samples (trapezoids between neighbours that both report power),
    # for a battery that reports no counter.
    integrated_kwh: float = 0.0
    last_power_w: float | None = None
    peak_power_w: float | None = None
    located: bool = False
    latitude: float | None = None
    longitude: float | None = None

    def add(self, point: Point) -> None:
        power = point.battery_power_w
        if self.last_power_w is not None and power is not None and self.ended_at is not None:
            mean_w = (self.last_power_w + power) / 2
            seconds = seconds_between(self.ended_at, point.ts)
            self.integrated_kwh += max(mean_w, 0.0) * seconds / 3_600_000
        self.last_power_w = power
        if power is not None and (self.peak_power_w is None or power > self.peak_power_w):
            self.peak_power_w = power
        if self.started_at is None:
            self.started_at = point.ts
        self.ended_at = point.ts
        self.points += 1
        if point.soc is not None:
            self.first_soc = first_or(self.first_soc, point.soc)
            self.last_soc = point.soc
        if point.charged_kwh is not None:
            self.first_charged_kwh = first_or(self.first_charged_kwh, point.charged_kwh)
            self.last_charged_kwh = point.charged_kwh
            self.charged_readings += 1
        if not self.located and point.latitude is not None:
            self.located, self.latitude, self.longitude = True, point.latitude, point.longitude

    def facts(self, settings: AnalysisSettings) -> ChargingFacts | None:
        """None for a session of one point or with no state of charge."""
        if self.points < 2 or self.first_soc is None or self.last_soc is None:
            return None
        assert self.started_at is not None and self.ended_at is not None
        counter = increase(self.first_charged_kwh, self.last_charged_kwh, self.charged_readings)
        energy = counter if counter is not None else self.integrated_kwh
        peak_kw = (self.peak_power_w or 0.0) / 1000
        fast = peak_kw >= settings.fast_charging_kw
        return ChargingFacts(
            started_at=self.started_at,
            ended_at=self.ended_at,
            start_soc=self.first_soc,
            end_soc=self.last_soc,
            energy_kwh=round(energy, 3),
            peak_power_kw=round(peak_kw, 2),
            fast=fast,
            cost=charging_cost(energy, fast, settings.tariff),
            currency=settings.tariff.currency,
            latitude=self.latitude,
            longitude=self.longitude,
        )


def charging_cost(energy_kwh: float, fast: bool, tariff: Tariff) -> float:
    price = tariff.fast_price_per_kwh if fast else tariff.price_per_kwh
    return round(energy_kwh * price + tariff.session_fee, 2)
