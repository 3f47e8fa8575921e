"""Recall campaigns end to end: a VIN list with a recall code is imported, each VIN's
current owner resolved from the local vehicle projection, and each owner entered into the
recall journey (notice on every consented channel, a booking case at the servicing dealer).
A service visit carrying the recall's code completes the vehicle."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.catalogue import RECALL_JOURNEY
from services.journeys.domain import DefinitionStatus
from services.journeys.errors import DuplicateRecall, NotStartable, RecallNotFound
from services.journeys.models import JourneyInstance, Message, Recall, RecallVehicle
from services.journeys.repository import JourneysRepository
from services.journeys.service import definitions
from services.journeys.service.entry import Entrant, enter
from shared.auth import Caller
from shared.contracts.profile import ServiceVisitCompleted


async def import_recall(
    session: AsyncSession, *, caller: Caller, code: str, title: dict[str, str], vins: list[str],
    now: datetime,
) -> Recall:  # fmt: skip
    repository = JourneysRepository(session)
    if await session.scalar(select(Recall).where(Recall.code == code)):
        raise DuplicateRecall(f"recall {code!r} was already imported")
    recall = await repository.add(Recall(code=code, title=title, created_by=caller.subject,
                                         created_at=now))  # fmt: skip
    journey = await _recall_journey(session, caller, now)
    for vin in dict.fromkeys(vins):
        vehicle = await repository.vehicle_by_vin(vin)
        row = RecallVehicle(recall_id=recall.id, vin=vin)
        if vehicle is not None and vehicle.owner_id is not None:
            row.vehicle_id, row.owner_id = vehicle.id, vehicle.owner_id
            row.dealer_id = vehicle.servicing_dealer_id
            row.instance_id = await _notify(session, journey, recall, row, now)
        session.add(row)
    await session.flush()
    return recall


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


async def _notify(session, journey, recall: Recall, row: RecallVehicle, now) -> uuid.UUID | None:
    context = {
        "vehicle_id": str(row.vehicle_id), "vin": row.vin,
        "dealer_id": str(row.dealer_id) if row.dealer_id else None,
        "recall_code": recall.code, "recall_title_en": recall.title.get("en", ""),
        "recall_title_zh": recall.title.get("zh", ""),
        "source_type": "recall", "source_id": f"{recall.code}:{row.vin}",
    }  # fmt: skip
    run_key = f"recall:{recall.code}:{row.vin}"
    await enter(session, journey, [Entrant(row.owner_id, context)], run_key=run_key, now=now)
    return await session.scalar(
        select(JourneyInstance.id).where(
            JourneyInstance.journey_key == journey.key,
            JourneyInstance.owner_id == row.owner_id,
            JourneyInstance.run_key == run_key,
        )
    )


async def visit_completed(session: AsyncSession, event: ServiceVisitCompleted) -> None:
    if not event.recall_codes:
        return
    recalls = select(Recall.id).where(Recall.code.in_(event.recall_codes))
    await session.execute(
        update(RecallVehicle)
        .where(
            RecallVehicle.recall_id.in_(recalls),
            RecallVehicle.vin == event.vin,
            RecallVehicle.completed_at.is_(None),
        )
        .values(completed_at=event.visit_date)
    )


async def get(session: AsyncSession, recall_id: uuid.UUID) -> Recall:
    recall = await session.get(Recall, recall_id)
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
    rows = await session.scalars(
        select(RecallVehicle)
        .where(RecallVehicle.recall_id == recall.id)
        .order_by(RecallVehicle.vin)
    )
    return rows.all()


async def proof_of_notice(session: AsyncSession, vehicles: Sequence[RecallVehicle]) -> dict:
    """Per VIN: the notice's message and each channel's delivery (status and time)."""
    instance_ids = [v.instance_id for v in vehicles if v.instance_id]
    if not instance_ids:
        return {}
    messages = (
        await session.scalars(
            select(Message).where(Message.instance_id.in_(instance_ids)).order_by(
                Message.created_at)
        )
    ).all()  # fmt: skip
    deliveries = await JourneysRepository(session).deliveries_of([m.id for m in messages])
    by_instance: dict = {}
    for message in messages:
        by_instance.setdefault(message.instance_id, message)
    proofs = {}
    for vehicle in vehicles:
        message = by_instance.get(vehicle.instance_id)
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
