"""Recall campaigns end to end: a VIN list with a recall code is imported, each VIN's
current owner resolved from the local vehicle projection, and each owner entered into the
recall journey (notice on every consented channel, a booking case at the servicing dealer).
A service visit carrying the recall's code completes the vehicle."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.catalogue import RECALL_JOURNEY
from services.journeys.domain import DefinitionStatus
from services.journeys.errors import DuplicateRecall, NotStartable, RecallNotFound
from services.journeys.models import Recall, RecallVehicle
from services.journeys.repository import JourneysRepository
from services.journeys.service import definitions
from services.journeys.service.entry import Entrant, enter
from shared.auth import Caller
from shared.contracts.profile import ServiceVisitCompleted


async def import_recall(
    session: AsyncSession, *, caller: Caller, code: str, title: dict[str, str], vins: list[str],
    now: datetime,
) -> Recall:  # fmt: skip
    """Imports the VINs, resolves their owners and enters each owned vehicle (a run per VIN,
    so an owner with two affected cars gets a notice and a booking for each)."""
    repository = JourneysRepository(session)
    if await repository.recall_by_code(code):
        raise DuplicateRecall(f"recall {code!r} was already imported")
    recall = await repository.add(Recall(code=code, title=title, created_by=caller.subject,
                                         created_at=now))  # fmt: skip
    journey = await _recall_journey(session, caller, now)
    vehicles = await repository.vehicles_by_vin(list(dict.fromkeys(vins)))
    rows = [_affected(recall, vin, vehicles.get(vin)) for vin in dict.fromkeys(vins)]
    owned = [row for row in rows if row.owner_id is not None]
    entrants = [Entrant(row.owner_id, _context(recall, row), _run_key(recall, row.vin))
                for row in owned]  # fmt: skip
    await enter(session, journey, entrants, run_key=f"recall:{recall.code}", now=now)
    instances = await repository.instances_by_run(journey.key, [e.run_key for e in entrants])
    for row in owned:
        row.instance_id = instances.get(_run_key(recall, row.vin))
    session.add_all(rows)
    await session.flush()
    return recall


def _affected(recall: Recall, vin: str, vehicle) -> RecallVehicle:
    if vehicle is None or vehicle.owner_id is None:
        return RecallVehicle(recall_id=recall.id, vin=vin)
    return RecallVehicle(
        recall_id=recall.id,
        vin=vin,
        vehicle_id=vehicle.id,
        owner_id=vehicle.owner_id,
        dealer_id=vehicle.servicing_dealer_id,
    )


def _run_key(recall: Recall, vin: str) -> str:
    return f"recall:{recall.code}:{vin}"


async def _recall_journey(session: AsyncSession, caller: Caller, now: datetime):
    """The active recall journey; the shipped one is installed and activated on first use."""
    repository = JourneysRepository(session)
    journey = await repository.active(RECALL_JOURNEY)
    if journey is None and await repository.definition(RECALL_JOURNEY) is None:
        installed = await definitions.install_template(
            session, caller=caller, template=RECALL_JOURNEY, key=None, now=now
        )
        journey = await definitions.transition(
            session, key=RECALL_JOURNEY, version=installed.version,
            target=DefinitionStatus.ACTIVE, now=now,
        )  # fmt: skip
    if journey is None:
        raise NotStartable(f"the {RECALL_JOURNEY!r} journey is not active")
    return journey


def _context(recall: Recall, row: RecallVehicle) -> dict:
    return {
        "vehicle_id": str(row.vehicle_id), "vin": row.vin,
        "dealer_id": str(row.dealer_id) if row.dealer_id else None,
        "recall_code": recall.code, "recall_title_en": recall.title.get("en", ""),
        "recall_title_zh": recall.title.get("zh", ""),
        "source_type": "recall", "source_id": f"{recall.code}:{row.vin}",
    }  # fmt: skip


async def visit_completed(session: AsyncSession, event: ServiceVisitCompleted) -> None:
    if event.recall_codes:
        await JourneysRepository(session).complete_recalls(
            event.recall_codes, event.vin, event.visit_date
        )


async def get(session: AsyncSession, recall_id: uuid.UUID) -> Recall:
    recall = await JourneysRepository(session).get(Recall, recall_id)
    if recall is None:
        raise RecallNotFound(f"no recall {recall_id}")
    return recall


async def report(session: AsyncSession, recall: Recall) -> dict:
    """Reach (owners with proof of notice) and completion, over every imported VIN."""
    vehicles = await vehicles_of(session, recall)
    proofs = await proof_of_notice(session, vehicles)
    total = len(vehicles)
    resolved = sum(1 for v in vehicles if v.owner_id)
    notified = sum(1 for v in vehicles if proofs.get(v.vin, {}).get("notified_at"))
    completed = sum(1 for v in vehicles if v.completed_at)
    return {
        "id": recall.id, "code": recall.code, "title": recall.title,
        "vehicles": total, "resolved": resolved, "notified": notified, "completed": completed,
        "reach_rate": round(notified / total, 4) if total else 0.0,
        "completion_rate": round(completed / total, 4) if total else 0.0,
        "unresolved_vins": [v.vin for v in vehicles if not v.owner_id],
        "created_at": recall.created_at,
    }  # fmt: skip


async def vehicles_of(session: AsyncSession, recall: Recall) -> Sequence[RecallVehicle]:
    return await JourneysRepository(session).recall_vehicles(recall.id)


async def proof_of_notice(session: AsyncSession, vehicles: Sequence[RecallVehicle]) -> dict:
    """Per VIN: the notice's message and each channel's delivery (status and time)."""
    repository = JourneysRepository(session)
    notices = await repository.first_messages([v.instance_id for v in vehicles if v.instance_id])
    deliveries = await repository.deliveries_of([m.id for m in notices.values()])
    proofs = {}
    for vehicle in vehicles:
        message = notices.get(vehicle.instance_id)
        if message is None:
            continue
        channels = [
            {"channel": d.channel, "status": d.status, "sent_at": d.sent_at}
            for d in deliveries
            if d.message_id == message.id
        ]
        proofs[vehicle.vin] = {
            "message_id": message.id, "notified_at": message.created_at,
            "read_at": message.read_at,
            "channels": [{"channel": "app_inbox", "status": "delivered",
                          "sent_at": message.created_at}, *channels],
        }  # fmt: skip
    return proofs


async def vehicle_reports(session: AsyncSession, recall: Recall) -> list[dict]:
    vehicles = await vehicles_of(session, recall)
    proofs = await proof_of_notice(session, vehicles)
    return [
        {"vin": v.vin, "owner_id": v.owner_id, "dealer_id": v.dealer_id,
         "completed_at": v.completed_at, "proof_of_notice": proofs.get(v.vin)}
        for v in vehicles
    ]  # fmt: skip
