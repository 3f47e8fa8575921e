"""Tickets' part of an owner's data export."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from services.tickets.schemas import (
    CommentRead,
    OwnerTicketRead,
    Read,
    TicketRead,
    TimelineEntryRead,
)


class OwnerProfileExport(Read):
    """What tickets learnt about the owner from profile's events (to route their cases)."""

    city: str | None
    preferred_language: str
    servicing_dealer_id: uuid.UUID | None


class VehicleExport(Read):
    id: uuid.UUID
    vin: str
    model: str
    servicing_dealer_id: uuid.UUID | None


class CaseExport(BaseModel):
    case: TicketRead | OwnerTicketRead
    timeline: list[TimelineEntryRead]
    comments: list[CommentRead]


class OwnerExport(BaseModel):
    """Everything tickets holds about one owner; after erasure only when it was erased."""

    owner_id: uuid.UUID
    generated_at: datetime
    erased_at: datetime | None
    profile: OwnerProfileExport | None
    vehicles: list[VehicleExport]
    cases: list[CaseExport]
