"""An owner's data in journeys: exported on request, erased when profile asks (the answer,
`JourneysErasureCompleted`, goes out with the erasure in one transaction). A staff export is
recorded for the owner's audit log in profile."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.journeys.models import (
    Decision,
    Delivery,
    ErasedOwner,
    JourneyInstance,
    KnownOwner,
    KnownVehicle,
    Message,
    OwnerConsent,
    OwnerSegment,
    OwnerTag,
    RecallVehicle,
)
from services.journeys.repository import JourneysRepository
from shared.audit import record_staff_export
from shared.auth import Caller
from shared.contracts.journeys import JourneysErasureCompleted, JourneysOwnerDataExported
from shared.contracts.profile import OwnerErasureRequested
from shared.idempotency.claims import forget_answers_about
from shared.messaging.outbox import record_event

SERVICE = "journeys"


async def erase(session: AsyncSession, event: OwnerErasureRequested, *, now: datetime) -> None:
    repository = JourneysRepository(session)
    done = await repository.get(ErasedOwner, event.owner_id)
    if done is not None and done.request_id == event.request_id:
        return  # the same request again: erased and confirmed already
    erased = await repository.erase_owner(event.owner_id)
    erased += await forget_answers_about(session, event.owner_id)
    await repository.clear_recall_owner(event.owner_id)
    await repository.upsert(
        ErasedOwner, {"owner_id": event.owner_id, "request_id": event.request_id,
                      "erased_at": now},
    )  # fmt: skip
    await record_event(
        session,
        JourneysErasureCompleted(request_id=event.request_id, owner_id=event.owner_id,
                                 service=SERVICE, records_erased=erased, completed_at=now),
        owner_id=event.owner_id, subject=event.request_id,
    )  # fmt: skip


_EXPORTED = {
    "contact": (KnownOwner, KnownOwner.id),
    "vehicles": (KnownVehicle, KnownVehicle.owner_id),
    "consents": (OwnerConsent, OwnerConsent.owner_id),
    "segments": (OwnerSegment, OwnerSegment.owner_id),
    "tags": (OwnerTag, OwnerTag.owner_id),
    "journeys": (JourneyInstance, JourneyInstance.owner_id),
    "messages": (Message, Message.owner_id),
    "deliveries": (Delivery, Delivery.owner_id),
    "decisions": (Decision, Decision.owner_id),
    "recall_vehicles": (RecallVehicle, RecallVehicle.owner_id),
}


async def export(
    session: AsyncSession, *, caller: Caller, owner_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    repository = JourneysRepository(session)
    document: dict[str, Any] = {"owner_id": owner_id, "service": SERVICE}
    for name, (model, column) in _EXPORTED.items():
        rows = await repository.owned_rows(model, column, owner_id)
        document[name] = [row.model_dump(mode="json") for row in rows]
    await record_staff_export(
        session, JourneysOwnerDataExported, caller=caller, owner_id=owner_id, at=now
    )
    return document
