"""The reliability statistics against known answers (no fixtures)."""

import math

import numpy as np
import pytest

from services.telematics.domain import QualitySettings
from services.telematics.reliability import (
    PartExposures,
    analyse_component,
    poisson_rate_interval,
    rate_ratio,
)


def test_the_worked_example_of_the_issue():
    """12 failures over 3,000,000 km against 40 over 80,000,000 km."""
    comparison = rate_ratio(12, 3_000_000, 40, 80_000_000, confidence=0.95)
    assert comparison.ratio == pytest.approx(8.0)
    assert comparison.interval.lower == pytest.approx(3.8, abs=0.05)
    assert comparison.interval.upper == pytest.approx(15.6, abs=0.05)
    # One-sided 95 % bound lies above the two-sided 97.5 % one, and well above 2.
    assert comparison.interval.lower < comparison.lower_bound == pytest.approx(4.30, abs=0.01)
    assert comparison.p_value < 1e-6


def test_equal_rates_give_no_evidence():
    comparison = rate_ratio(10, 1_000_000, 100, 10_000_000, confidence=0.95)
    assert comparison.ratio == pytest.approx(1.0)
    assert comparison.interval.lower < 1 < comparison.interval.upper
    assert comparison.p_value > 0.3


def test_exact_poisson_interval_of_a_rate():
    # Garwood's interval for 12 events: [6.2006, 20.9616] (halved chi-square quantiles).
    interval = poisson_rate_interval(12, 10_000, 0.95)
    assert interval.lower == pytest.approx(6.2006, abs=1e-3)
    assert interval.upper == pytest.approx(20.9616, abs=1e-3)
    zero = poisson_rate_interval(0, 10_000, 0.95)
    assert zero.lower == 0.0 and zero.upper == pytest.approx(3.6889, abs=1e-3)


def fleet(faulty_failures_past_20000: int, *, seed: int = 7) -> PartExposures:
    """Ten batches of 200 parts driven from 0 to 10,000-40,000 km; the rest of the fleet fails
    rarely at random mileages; batch B-03 also fails past 20,000 km."""
    rng = np.random.default_rng(seed)
    batches = np.repeat(np.arange(10), 200)
    end = rng.uniform(10_000, 40_000, len(batches))
    failure = np.full(len(batches), np.nan)
    background = rng.choice(len(batches), 20, replace=False)
    failure[background] = end[background] * rng.uniform(0.2, 1.0, 20)
    past = np.flatnonzero((batches == 3) & (end > 22_000) & np.isnan(failure))
    chosen = past[:faulty_failures_past_20000]
    failure[chosen] = rng.uniform(20_000, end[chosen])
    end = np.fmin(end, failure)
    return PartExposures(
        batch_codes=[f"B-{i:02d}" for i in range(10)],
        batch=batches,
        start_km=np.zeros(len(batches)),
        end_km=end,
        failure_km=failure,
    )


def test_a_faulty_batch_raises_an_alert_from_about_its_threshold():
    findings = analyse_component(fleet(25), QualitySettings())
    alerts = [finding for finding in findings if finding.alert]
    assert [finding.batch_code for finding in alerts] == ["B-03"]
    (alert,) = alerts
    assert 15_000 <= alert.threshold_km <= 22_500
    assert alert.comparison.lower_bound > 2 and alert.corrected_p_value < 0.01
    # The evidence: bands with exposure beside the rest's, failures adding up.
    assert sum(band.failures for band in alert.bands) >= alert.failures
    assert all(band.exposure_km >= 0 and band.rest_exposure_km >= 0 for band in alert.bands)
    assert all(band.to_km - band.from_km == 2_500 for band in alert.bands)


def test_a_healthy_fleet_raises_nothing():
    assert not any(finding.alert for finding in analyse_component(fleet(0), QualitySettings()))


def test_the_rule_is_configurable():
    strict = QualitySettings(min_failures=100)
    assert not any(finding.alert for finding in analyse_component(fleet(25), strict))


def test_exposure_counts_only_km_driven_inside_each_band():
    parts = PartExposures(
        batch_codes=["A", "B"],
        batch=np.array([0, 1]),
        start_km=np.array([1_000.0, 0.0]),
        end_km=np.array([6_000.0, 2_500.0]),
        failure_km=np.array([6_000.0, math.nan]),
    )
    (finding, *_) = analyse_component(parts, QualitySettings(min_failures=1))
    bands = {band.from_km: (band.exposure_km, band.failures) for band in finding.bands}
    assert bands == {0.0: (1_500.0, 0), 2_500.0: (2_500.0, 0), 5_000.0: (1_000.0, 1)}
