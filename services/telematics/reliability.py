"""Field reliability statistics for the fleet quality early warning (numpy and scipy).

Per component, every fitted part contributes the km it was driven while observed (from the
later of fitting and first observation to the earliest of removal, failure and the last
observed mileage). Per batch and mileage band: exposure, failures and the hazard per
10,000 km with an exact (Garwood) Poisson interval. A batch is compared with the rest of the
fleet's parts from each band start upwards: the rate ratio, its exact conditional interval
(Clopper-Pearson on the binomial split of the combined failures) and the exact one-sided
p-value, Bonferroni-corrected for every (batch, threshold) tested.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import beta, binom, chi2

from services.telematics.domain import QualitySettings

PER_KM = 10_000.0


@dataclass(frozen=True)
class Interval:
    lower: float
    upper: float


def poisson_rate_intervals(failures, exposure_km, confidence: float):
    """Two-sided exact (Garwood) intervals of hazards per 10,000 km, for arrays of counts and
    exposures; (lower, upper) arrays, upper infinite where nothing was driven."""
    x = np.asarray(failures, dtype=float)
    driven = np.asarray(exposure_km, dtype=float)
    alpha = 1 - confidence
    lower = np.where(x > 0, chi2.ppf(alpha / 2, np.where(x > 0, 2 * x, 1.0)) / 2, 0.0)
    upper = chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    with np.errstate(divide="ignore"):
        scale = np.where(driven > 0, PER_KM / driven, np.inf)
    return lower * np.where(driven > 0, scale, 0.0), upper * scale


def poisson_rate_interval(failures: int, exposure_km: float, confidence: float) -> Interval:
    lower, upper = poisson_rate_intervals([failures], [exposure_km], confidence)
    return Interval(float(lower[0]), float(upper[0]))


@dataclass(frozen=True)
class RateRatio:
    ratio: float
    interval: Interval  # two-sided at the confidence
    lower_bound: float  # one-sided at the confidence
    p_value: float  # one-sided: the batch fails more often than the rest


@dataclass(frozen=True)
class RateRatios:
    """`RateRatio` for many comparisons at once (parallel arrays)."""

    ratio: np.ndarray
    lower: np.ndarray  # two-sided
    upper: np.ndarray  # two-sided (inf: unbounded)
    lower_bound: np.ndarray  # one-sided
    p_value: np.ndarray

    def at(self, index: int) -> RateRatio:
        return RateRatio(
            ratio=float(self.ratio[index]),
            interval=Interval(float(self.lower[index]), float(self.upper[index])),
            lower_bound=float(self.lower_bound[index]),
            p_value=float(self.p_value[index]),
        )


def _odds_to_ratio(share: np.ndarray, exposure_ratio: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(share >= 1, np.inf, share / (1 - share) * exposure_ratio)


def rate_ratios(failures, exposure_km, rest_failures, rest_exposure_km, *, confidence):
    """Given the combined failures, the batch's share is binomial with p = E1/(E1+E2) when
    both fail alike; Clopper-Pearson bounds on that share become bounds on the ratio, and the
    binomial tail is the exact one-sided p-value."""
    x1, x2 = np.asarray(failures, dtype=float), np.asarray(rest_failures, dtype=float)
    e1, e2 = np.asarray(exposure_km, dtype=float), np.asarray(rest_exposure_km, dtype=float)
    alpha = 1 - confidence
    exposure_ratio = e2 / e1
    some, rest_some = x1 > 0, x2 > 0
    # Shape parameters must be positive; where they are not, the bound is fixed below.
    a, b = np.where(some, x1, 1.0), np.where(rest_some, x2, 1.0)

    def lower(tail: float) -> np.ndarray:
        return np.where(some, _odds_to_ratio(beta.ppf(tail, a, x2 + 1), exposure_ratio), 0.0)

    upper_share = np.where(rest_some, beta.ppf(1 - alpha / 2, x1 + 1, b), 1.0)
    # With no failure in the rest the estimate is unbounded; Haldane's half-count keeps a
    # finite, reportable point estimate (the upper bound stays open).
    correction = np.where(rest_some, 0.0, 0.5)
    return RateRatios(
        ratio=((x1 + correction) / e1) / ((x2 + correction) / e2),
        lower=lower(alpha / 2),
        upper=_odds_to_ratio(upper_share, exposure_ratio),
        lower_bound=lower(alpha),
        p_value=np.where(some, binom.sf(x1 - 1, x1 + x2, e1 / (e1 + e2)), 1.0),
    )


def rate_ratio(
    failures: int, exposure_km: float, rest_failures: int, rest_exposure_km: float, *, confidence
) -> RateRatio:
    return rate_ratios(
        [failures], [exposure_km], [rest_failures], [rest_exposure_km], confidence=confidence
    ).at(0)


@dataclass
class PartExposures:
    """One component's fitted parts, as parallel arrays (one entry per part)."""

    batch_codes: Sequence[str]  # distinct batches; `batch` indexes into it
    batch: np.ndarray  # int
    start_km: np.ndarray
    end_km: np.ndarray
    failure_km: np.ndarray  # NaN where the part has not failed


@dataclass(frozen=True)
class Band:
    from_km: float
    to_km: float
    exposure_km: float
    failures: int
    hazard_per_10000km: float
    hazard_interval: Interval
    rest_exposure_km: float
    rest_failures: int
    rest_hazard_per_10000km: float
    rest_hazard_interval: Interval


@dataclass(frozen=True)
class BatchFinding:
    batch_code: str
    threshold_km: float
    failures: int
    exposure_km: float
    rest_failures: int
    rest_exposure_km: float
    comparison: RateRatio
    corrected_p_value: float
    bands: list[Band]
    alert: bool


def _exposure_above(parts: PartExposures, edges: np.ndarray, batches: int) -> np.ndarray:
    """[batch, edge]: km driven above each edge, summed over the batch's parts."""
    above = np.empty((batches, len(edges)))
    for column, edge in enumerate(edges):
        driven = np.clip(parts.end_km - np.maximum(parts.start_km, edge), 0.0, None)
        above[:, column] = np.bincount(parts.batch, weights=driven, minlength=batches)
    return above


def _failures_above(parts: PartExposures, edges: np.ndarray, batches: int) -> np.ndarray:
    """[batch, edge]: failures at or above each edge."""
    failed = ~np.isnan(parts.failure_km)
    band = np.searchsorted(edges, parts.failure_km[failed], side="right") - 1
    per_band = np.zeros((batches, len(edges)), dtype=np.int64)
    np.add.at(per_band, (parts.batch[failed], band), 1)
    return np.cumsum(per_band[:, ::-1], axis=1)[:, ::-1]


@dataclass(frozen=True)
class _Tables:
    """[batch, edge] arrays: km driven and failures at or above each band start, for the
    batch and for the rest of the component's parts."""

    exposure: np.ndarray
    failures: np.ndarray
    rest_exposure: np.ndarray
    rest_failures: np.ndarray

    def per_band(self, name: str, batch: int) -> np.ndarray:
        above = getattr(self, name)[batch]
        return above - np.append(above[1:], 0)


def analyse_component(parts: PartExposures, settings: QualitySettings) -> list[BatchFinding]:
    """Every batch with failures to test, at its most telling threshold; `alert` marks those
    that meet the configured rule."""
    batches = len(parts.batch_codes)
    if batches < 2 or len(parts.batch) == 0:
        return []
    top = float(np.nanmax(np.concatenate([parts.end_km, parts.failure_km])))
    edges = np.arange(0.0, top + settings.band_km, settings.band_km)
    exposure = _exposure_above(parts, edges, batches)
    failures = _failures_above(parts, edges, batches)
    tables = _Tables(
        exposure, failures, exposure.sum(axis=0) - exposure, failures.sum(axis=0) - failures
    )
    testable = (exposure > 0) & (tables.rest_exposure > 0) & (failures > 0)
    tests = int(testable.sum())
    findings = []
    for batch, code in enumerate(parts.batch_codes):
        columns = np.flatnonzero(testable[batch])
        if len(columns):
            findings.append(_finding(tables, batch, code, columns, edges, tests, settings))
    return findings


def _finding(tables, batch, code, columns, edges, tests, settings) -> BatchFinding:
    """The band start from which the batch's excess is most certain (largest lower bound),
    preferring thresholds that meet the rule."""
    failures = tables.failures[batch, columns]
    compared = rate_ratios(
        failures,
        tables.exposure[batch, columns],
        tables.rest_failures[batch, columns],
        tables.rest_exposure[batch, columns],
        confidence=settings.confidence,
    )
    corrected = np.minimum(1.0, compared.p_value * tests)
    meets = (
        (failures >= settings.min_failures)
        & (compared.lower_bound > settings.min_rate_ratio_lower_bound)
        & (corrected < settings.max_corrected_p_value)
    )
    best = max(range(len(columns)), key=lambda i: (bool(meets[i]), compared.lower_bound[i]))
    column = int(columns[best])
    return BatchFinding(
        batch_code=code,
        threshold_km=float(edges[column]),
        failures=int(failures[best]),
        exposure_km=float(tables.exposure[batch, column]),
        rest_failures=int(tables.rest_failures[batch, column]),
        rest_exposure_km=float(tables.rest_exposure[batch, column]),
        comparison=compared.at(best),
        corrected_p_value=float(corrected[best]),
        bands=_bands(tables, batch, edges, settings),
        alert=bool(meets[best]),
    )


def _hazard(failures: int, exposure_km: float) -> float:
    return failures * PER_KM / exposure_km if exposure_km > 0 else 0.0


def _bands(tables: _Tables, batch: int, edges: np.ndarray, settings) -> list[Band]:
    """The evidence: per band where anything was driven, the batch beside the rest."""
    exposure, failures = tables.per_band("exposure", batch), tables.per_band("failures", batch)
    rest_exposure = tables.per_band("rest_exposure", batch)
    rest_failures = tables.per_band("rest_failures", batch)
    low, high = poisson_rate_intervals(failures, exposure, settings.confidence)
    rest_low, rest_high = poisson_rate_intervals(rest_failures, rest_exposure, settings.confidence)
    return [
        Band(
            from_km=float(start),
            to_km=float(start + settings.band_km),
            exposure_km=round(float(exposure[i]), 1),
            failures=int(failures[i]),
            hazard_per_10000km=_hazard(int(failures[i]), float(exposure[i])),
            hazard_interval=Interval(float(low[i]), float(high[i])),
            rest_exposure_km=round(float(rest_exposure[i]), 1),
            rest_failures=int(rest_failures[i]),
            rest_hazard_per_10000km=_hazard(int(rest_failures[i]), float(rest_exposure[i])),
            rest_hazard_interval=Interval(float(rest_low[i]), float(rest_high[i])),
        )
        for i, start in enumerate(edges)
        if exposure[i] > 0 or rest_exposure[i] > 0
    ]
