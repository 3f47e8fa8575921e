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


def poisson_rate_interval(failures: int, exposure_km: float, confidence: float) -> Interval:
    """Two-sided exact interval of the hazard per 10,000 km."""
    if exposure_km <= 0:
        return Interval(0.0, float("inf"))
    alpha = 1 - confidence
    lower = chi2.ppf(alpha / 2, 2 * failures) / 2 if failures else 0.0
    upper = chi2.ppf(1 - alpha / 2, 2 * failures + 2) / 2
    return Interval(lower * PER_KM / exposure_km, upper * PER_KM / exposure_km)


@dataclass(frozen=True)
class RateRatio:
    ratio: float
    interval: Interval  # two-sided at the confidence
    lower_bound: float  # one-sided at the confidence
    p_value: float  # one-sided: the batch fails more often than the rest


def _odds_to_ratio(share: float, exposure_ratio: float) -> float:
    return float("inf") if share >= 1 else share / (1 - share) * exposure_ratio


def rate_ratio(
    failures: int, exposure_km: float, rest_failures: int, rest_exposure_km: float, *, confidence
) -> RateRatio:
    """Given the combined failures, the batch's share is binomial with p = E1/(E1+E2) when
    both fail alike; bounds on that share become bounds on the ratio."""
    total = failures + rest_failures
    exposure_ratio = rest_exposure_km / exposure_km
    alpha = 1 - confidence

    def lower(tail: float) -> float:
        return (
            _odds_to_ratio(beta.ppf(tail, failures, rest_failures + 1), exposure_ratio)
            if (failures)
            else 0.0
        )

    upper_share = beta.ppf(1 - alpha / 2, failures + 1, rest_failures) if rest_failures else 1.0
    null_share = exposure_km / (exposure_km + rest_exposure_km)
    # With no failure in the rest the estimate is unbounded; Haldane's half-count keeps a
    # finite, reportable point estimate (the upper bound stays open).
    correction = 0.5 if rest_failures == 0 else 0.0
    ratio = ((failures + correction) / exposure_km) / (
        (rest_failures + correction) / rest_exposure_km
    )
    return RateRatio(
        ratio=ratio,
        interval=Interval(
            float(lower(alpha / 2)), float(_odds_to_ratio(upper_share, exposure_ratio))
        ),
        lower_bound=float(lower(alpha)),
        p_value=float(binom.sf(failures - 1, total, null_share)) if failures else 1.0,
    )


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

    def comparison(self, batch: int, column: int, confidence: float) -> RateRatio:
        return rate_ratio(
            int(self.failures[batch, column]),
            float(self.exposure[batch, column]),
            int(self.rest_failures[batch, column]),
            float(self.rest_exposure[batch, column]),
            confidence=confidence,
        )

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


def _meets_rule(failures: int, comparison: RateRatio, corrected: float, settings) -> bool:
    return (
        failures >= settings.min_failures
        and comparison.lower_bound > settings.min_rate_ratio_lower_bound
        and corrected < settings.max_corrected_p_value
    )


def _finding(tables, batch, code, columns, edges, tests, settings) -> BatchFinding:
    """The band start from which the batch's excess is most certain (largest lower bound),
    preferring thresholds that meet the rule."""
    evaluated = []
    for column in columns:
        comparison = tables.comparison(batch, int(column), settings.confidence)
        corrected = min(1.0, comparison.p_value * tests)
        meets = _meets_rule(int(tables.failures[batch, column]), comparison, corrected, settings)
        evaluated.append(((meets, comparison.lower_bound), int(column), comparison, corrected))
    (meets, _), column, comparison, corrected = max(evaluated, key=lambda item: item[0])
    return BatchFinding(
        batch_code=code,
        threshold_km=float(edges[column]),
        failures=int(tables.failures[batch, column]),
        exposure_km=float(tables.exposure[batch, column]),
        rest_failures=int(tables.rest_failures[batch, column]),
        rest_exposure_km=float(tables.rest_exposure[batch, column]),
        comparison=comparison,
        corrected_p_value=corrected,
        bands=_bands(tables, batch, edges, settings),
        alert=meets,
    )


def _hazard(failures: int, exposure_km: float) -> float:
    return failures * PER_KM / exposure_km if exposure_km > 0 else 0.0


def _bands(tables: _Tables, batch: int, edges: np.ndarray, settings) -> list[Band]:
    """The evidence: per band where anything was driven, the batch beside the rest."""
    exposure, failures = tables.per_band("exposure", batch), tables.per_band("failures", batch)
    rest_exposure = tables.per_band("rest_exposure", batch)
    rest_failures = tables.per_band("rest_failures", batch)
    bands = []
    for column, start in enumerate(edges):
        driven, failed = float(exposure[column]), int(failures[column])
        rest_driven, rest_failed = float(rest_exposure[column]), int(rest_failures[column])
        if driven <= 0 and rest_driven <= 0:
            continue
        bands.append(
            Band(
                from_km=float(start),
                to_km=float(start + settings.band_km),
                exposure_km=round(driven, 1),
                failures=failed,
                hazard_per_10000km=_hazard(failed, driven),
                hazard_interval=poisson_rate_interval(failed, driven, settings.confidence),
                rest_exposure_km=round(rest_driven, 1),
                rest_failures=rest_failed,
                rest_hazard_per_10000km=_hazard(rest_failed, rest_driven),
                rest_hazard_interval=poisson_rate_interval(
                    rest_failed, rest_driven, settings.confidence
                ),
            )
        )
    return bands
