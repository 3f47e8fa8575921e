"""The fleet quality early warning: per component batch, field failures against exposure by
mileage band, compared with the rest of the fleet; an alert with its evidence and the
vehicles to invite before they fail, raised once per batch and refreshed by later runs."""

import math
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics import domain, reliability
from services.telematics.models import QualityAlert
from services.telematics.repository import TelematicsRepository
from services.telematics.service.settings import quality_settings
from shared.contracts.telematics import CampaignTarget, QualityAlertRaised
from shared.messaging.outbox import record_event

# Targets carried by the event itself (a broker message has a size limit); all are kept on the
# alert and served by the API.
TARGETS_PER_EVENT = 1000
# A vehicle's pace (km per day) is judged over this many recent days.
PACE_DAYS = 30


@dataclass
class QualityReport:
    components: int = 0
    batches_tested: int = 0
    alerts_raised: int = 0
    alerts: list[QualityAlert] = field(default_factory=list)


def _exposures(rows: list[tuple]) -> dict[str, reliability.PartExposures]:
    """Per component: each part's observed km (from the later of fitting and first reading to
    the earliest of removal, failure and last reading) and its failure inside that span."""
    result = {}
    for component, batches, fitted, removed, first, last, failure in rows:
        codes, batch = np.unique(np.array(batches, dtype=object), return_inverse=True)
        fitted, removed, first, last, failure = (
            np.array(values, dtype=float) for values in (fitted, removed, first, last, failure)
        )
        start = np.maximum(fitted, np.nan_to_num(first, nan=0.0))
        end = np.fmin(np.fmin(removed, last), failure)
        result[component] = reliability.PartExposures(
            batch_codes=[str(code) for code in codes],
            batch=batch.astype(np.int64),
            start_km=start,
            end_km=end,
            failure_km=np.where((failure >= start) & (failure <= end), failure, np.nan),
        )
    return result


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _band_json(band: reliability.Band) -> dict:
    data = asdict(band)
    for key in ("hazard_interval", "rest_hazard_interval"):
        data[key] = [_finite(data[key]["lower"]), _finite(data[key]["upper"])]
    return data


async def _targets(repository, component, finding, settings, now) -> list[CampaignTarget]:
    found = await repository.campaign_candidates(
        component, finding.batch_code, pace_since=(now - timedelta(days=PACE_DAYS)).date()
    )
    candidates = [
        domain.Candidate(key=vehicle, mileage_km=vehicle.mileage_km, km_per_day=pace)
        for vehicle, pace in found
    ]
    chosen = domain.campaign_targets(candidates, finding.threshold_km, settings)
    return [
        CampaignTarget(
            vehicle_id=candidate.key.id,
            vin=candidate.key.vin,
            owner_id=candidate.key.owner_id,
            servicing_dealer_id=candidate.key.servicing_dealer_id,
            mileage_km=candidate.mileage_km,
            days_to_threshold=days,
        )
        for candidate, days in chosen
    ]


async def analyse(session: AsyncSession, *, now: datetime) -> QualityReport:
    repository = TelematicsRepository(session)
    await repository.serialise_quality_analyses()
    settings = await quality_settings(session)
    report = QualityReport()
    for component, parts in _exposures(await repository.part_exposures()).items():
        report.components += 1
        for finding in reliability.analyse_component(parts, settings):
            report.batches_tested += 1
            if finding.alert:
                targets = await _targets(repository, component, finding, settings, now)
                alert, raised = await _record_alert(repository, component, finding, targets, now)
                report.alerts.append(alert)
                report.alerts_raised += raised
    return report


async def _record_alert(repository, component, finding, targets, now) -> tuple[QualityAlert, bool]:
    comparison = finding.comparison
    evidence = {
        "threshold_km": finding.threshold_km,
        "failures": finding.failures,
        "exposure_km": finding.exposure_km,
        "rate_ratio": comparison.ratio,
        "rate_ratio_lower_bound": comparison.lower_bound,
        "rate_ratio_interval": [comparison.interval.lower, _finite(comparison.interval.upper)],
        "p_value": comparison.p_value,
        "corrected_p_value": finding.corrected_p_value,
        "bands": [_band_json(band) for band in finding.bands],
        "targets": [target.model_dump(mode="json") for target in targets],
        "analysed_at": now,
    }
    alert = await repository.quality_alert(component, finding.batch_code)
    if alert is not None:
        for name, value in evidence.items():
            setattr(alert, name, value)
        await repository.session.flush()
        return alert, False
    alert = await repository.add(
        QualityAlert(
            id=uuid.uuid4(),
            component=component,
            batch_code=finding.batch_code,
            raised_at=now,
            **evidence,
        )
    )
    await record_event(
        repository.session,
        QualityAlertRaised(
            alert_id=alert.id,
            component=component,
            batch_code=finding.batch_code,
            failures=finding.failures,
            exposure_km=finding.exposure_km,
            rate_ratio=comparison.ratio,
            rate_ratio_lower_bound=comparison.lower_bound,
            p_value=finding.corrected_p_value,
            threshold_km=finding.threshold_km,
            targets=targets[:TARGETS_PER_EVENT],
            targets_total=len(targets),
            rate_ratio_interval=evidence["rate_ratio_interval"],
            raised_at=now,
        ),
        subject=alert.id,
    )
    return alert, True
