"""Telematics' HTTP API, mounted at /v1/telematics. Thin: dependencies in, one use case, out."""

import uuid

from fastapi import APIRouter, Query, Request

from services.telematics.deps import Now, Settings, SignalBatches
from services.telematics.errors import BatchTooLarge
from services.telematics.schemas import (
    AnalysisSettingsBody,
    ChargingSessionPage,
    FaultPage,
    IngestionRead,
    OwnerExport,
    QualityAlertPage,
    QualityAlertRead,
    QualityAnalysisRead,
    QualitySettingsBody,
    ServiceDueRead,
    TripPage,
    VehiclePage,
    VehicleStateRead,
)
from services.telematics.service import configuration, ingestion, privacy, quality, views
from shared.dependencies import AnyCaller, CurrentCaller, Paging, Session

router = APIRouter()

SAMPLES_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["vin", "ts"],
                        "properties": {
                            "vin": {"type": "string"},
                            "ts": {"type": "string", "format": "date-time"},
                            "signals": {"type": "object", "additionalProperties": True},
                        },
                    },
                }
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def _page(page_type, items, total, paging):
    return page_type(items=items, total=total, limit=paging.limit, offset=paging.offset)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BatchTooLarge(f"body: at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BatchTooLarge(f"body: at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/signals", response_model=IngestionRead, openapi_extra=SAMPLES_BODY)
async def ingest_signals(
    request: Request, batches: SignalBatches, caller: AnyCaller, settings: Settings, now: Now
):
    """A batch of `{vin, ts, signals}` samples as a JSON array, or NDJSON (one per line).
    Answers after the rows are committed, with accepted, duplicate and rejected counts."""
    ingestion.require_sender(caller)
    body = await _body(request, settings.max_body_bytes)
    return await ingestion.ingest_body(
        batches,
        body,
        request.headers.get("content-type", "application/json"),
        caller=caller,
        settings=settings,
        now=now,
    )


# Owner and dealer views


@router.get("/vehicles", response_model=VehiclePage)
async def list_vehicles(session: Session, caller: CurrentCaller, paging: Paging):
    rows, total = await views.vehicles(session, caller, paging)
    return _page(VehiclePage, [views.state_of(v, s) for v, s in rows], total, paging)


@router.get("/vehicles/{vin}", response_model=VehicleStateRead)
async def get_vehicle(vin: str, session: Session, caller: CurrentCaller):
    return await views.vehicle_state(session, caller, vin)


@router.get("/vehicles/{vin}/trips", response_model=TripPage)
async def list_trips(vin: str, session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await views.trips(session, caller, vin, paging)
    return _page(TripPage, items, total, paging)


@router.get("/vehicles/{vin}/charging-sessions", response_model=ChargingSessionPage)
async def list_charging(vin: str, session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await views.charging_sessions(session, caller, vin, paging)
    return _page(ChargingSessionPage, items, total, paging)


@router.get("/vehicles/{vin}/faults", response_model=FaultPage)
async def list_vehicle_faults(vin: str, session: Session, caller: CurrentCaller, paging: Paging):
    """The vehicle's active fault codes."""
    items, total = await views.vehicle_faults(session, caller, vin, paging)
    return _page(FaultPage, [views.fault_of(f, vin) for f in items], total, paging)


@router.get("/vehicles/{vin}/service-due", response_model=ServiceDueRead)
async def get_service_due(vin: str, session: Session, caller: CurrentCaller):
    return await views.service_due(session, caller, vin)


@router.get("/faults", response_model=FaultPage)
async def list_faults(
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    vin: str | None = Query(default=None, max_length=32),
):
    """Active fault codes of the caller's vehicles, those due for service soonest first, so a
    dealer can prepare parts for upcoming visits."""
    rows, total = await views.faults(session, caller, paging, vin)
    items = [views.fault_of(fault, vehicle.vin, due) for fault, vehicle, due in rows]
    return _page(FaultPage, items, total, paging)


# Configuration


@router.get("/settings/analysis", response_model=AnalysisSettingsBody)
async def get_analysis_settings(session: Session, caller: CurrentCaller):
    return await configuration.analysis(session, caller)


@router.put("/settings/analysis", response_model=AnalysisSettingsBody)
async def put_analysis_settings(
    body: AnalysisSettingsBody, session: Session, caller: CurrentCaller
):
    """Thresholds, tariff and the fault-code map; new values apply to facts derived from now."""
    return await configuration.replace_analysis(session, caller, body)


@router.get("/quality/settings", response_model=QualitySettingsBody)
async def get_quality_settings(session: Session, caller: CurrentCaller):
    return await configuration.quality(session, caller)


@router.put("/quality/settings", response_model=QualitySettingsBody)
async def put_quality_settings(body: QualitySettingsBody, session: Session, caller: CurrentCaller):
    """The alert rule (failures, lower bound of the rate ratio, corrected p-value), mileage band
    width and the campaign's margin and lead time."""
    return await configuration.replace_quality(session, caller, body)


# Fleet quality


@router.post("/quality/analyses", response_model=QualityAnalysisRead)
async def run_quality_analysis(session: Session, caller: CurrentCaller, now: Now):
    """Runs the early warning now (it also runs on its own schedule)."""
    views.require_quality(caller)
    report = await quality.analyse(session, now=now)
    return QualityAnalysisRead(
        components=report.components,
        batches_tested=report.batches_tested,
        alerts_raised=report.alerts_raised,
        alerts=report.alerts,
    )


@router.get("/quality/alerts", response_model=QualityAlertPage)
async def list_quality_alerts(session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await views.quality_alerts(session, caller, paging)
    return _page(QualityAlertPage, items, total, paging)


@router.get("/quality/alerts/{alert_id}", response_model=QualityAlertRead)
async def get_quality_alert(alert_id: uuid.UUID, session: Session, caller: CurrentCaller):
    """The alert's evidence (bands, counts, exposure, hazards, ratio and bounds) and the
    campaign's target vehicles, most urgent first."""
    return await views.quality_alert(session, caller, alert_id)


@router.get("/privacy/owners/{owner_id}/export", response_model=OwnerExport)
async def export_owner(owner_id: uuid.UUID, session: Session, caller: CurrentCaller, now: Now):
    """Everything telematics holds that is the owner's: for the owner themselves, or CX staff."""
    return await privacy.export_owner(session, caller=caller, owner_id=owner_id, now=now)
