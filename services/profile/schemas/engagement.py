"""API models of interaction events, leads, consents, ownership, households, dealer groups."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from services.profile.domain import ConsentChannel, ConsentPurpose, LeadKind, VehicleRoleKind
from services.profile.schemas.core import (
    Body,
    ConsentAnswer,
    DealerCode,
    Name,
    Read,
    ShortText,
    Source,
)
from shared.pagination import Page

MAX_EVENTS_PER_BATCH = 500


class InteractionEventIn(Body):
    type: str = Field(min_length=1, max_length=64)
    # Owners send their own events and may leave this out; dealers and connectors name one.
    owner_id: uuid.UUID | None = None
    occurred_at: datetime
    source: Source = "app"
    properties: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, min_length=1, max_length=64)


class InteractionBatch(Body):
    events: list[InteractionEventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)


class InteractionBatchResult(BaseModel):
    accepted: int
    duplicates: int


class InteractionEventRead(Read):
    id: uuid.UUID
    owner_id: uuid.UUID
    type: str
    source: str
    occurred_at: datetime
    properties: dict[str, Any]


class EventTypeRead(BaseModel):
    type: str
    schema_: dict = Field(alias="schema", serialization_alias="schema")


class LeadCreate(Body):
    kind: LeadKind = LeadKind.LEAD
    owner_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    model: ShortText | None = None
    channel: Source = "app"
    requested_slot: datetime | None = None
    referral_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{8}$")] | None = None


class LeadRead(Read):
    id: uuid.UUID
    kind: LeadKind
    owner_id: uuid.UUID
    dealer_id: uuid.UUID
    model: str | None
    channel: str
    requested_slot: datetime | None
    referrer_owner_id: uuid.UUID | None
    created_at: datetime


class ConsentUpdate(ConsentAnswer):
    """The owner's answer, as the app (or customer service) sends it."""


class ConsentRead(Read):
    purpose: ConsentPurpose
    channel: ConsentChannel
    granted: bool
    notice_version: str
    source: str
    changed_at: datetime


class ConsentHistoryRead(ConsentRead):
    recorded_by: str


class ConsentsRead(BaseModel):
    owner_id: uuid.UUID
    current: list[ConsentRead]
    history: list[ConsentHistoryRead]


class OwnershipTransfer(Body):
    owner_id: uuid.UUID
    effective_from: date


class DriverAdd(Body):
    owner_id: uuid.UUID
    role: VehicleRoleKind
    effective_from: date


class RoleEnd(Body):
    effective_to: date


class VehicleRoleRead(Read):
    id: uuid.UUID
    vehicle_id: uuid.UUID
    owner_id: uuid.UUID
    role: VehicleRoleKind
    effective_from: date
    effective_to: date | None


class HouseholdCreate(Body):
    name: Name
    owner_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)


class HouseholdMemberAdd(Body):
    owner_id: uuid.UUID


class HouseholdRead(Read):
    id: uuid.UUID
    name: str
    member_ids: list[uuid.UUID]
    created_at: datetime


class HouseholdDepartureRead(Read):
    household_id: uuid.UUID
    owner_id: uuid.UUID
    left_at: datetime
    # True when an earlier request took the owner out: this one changed nothing.
    already_left: bool


class DealerGroupCreate(Body):
    code: DealerCode
    name: Name
    region: ShortText


class DealerGroupRead(Read):
    id: uuid.UUID
    code: str
    name: str
    region: str
    dealer_ids: list[uuid.UUID] = []
    created_at: datetime


class DealerGroupAssign(Body):
    group_id: uuid.UUID | None


InteractionEventPage = Page[InteractionEventRead]
LeadPage = Page[LeadRead]
DealerGroupPage = Page[DealerGroupRead]
