"""API models of the owner 360 view, loyalty, identity merges, erasure and export."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.profile.schemas.core import (
    Body,
    OrderRead,
    Read,
    ServiceVisitRead,
    ShortText,
    VehicleRead,
)
from services.profile.schemas.engagement import ConsentRead, LeadRead, VehicleRoleRead
from services.profile.schemas.segments import MembershipRead


class Identity(BaseModel):
    owner_id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    city: str | None
    preferred_language: str
    masked: bool
    merged_into: uuid.UUID | None
    erased: bool


class VehicleWithRoles(VehicleRead):
    roles: list[VehicleRoleRead]


class ScoreRead(Read):
    response_id: uuid.UUID
    kind: str
    score: int | None
    band: str | None
    touchpoint: str
    dealer_id: uuid.UUID | None
    submitted_at: datetime


class TicketRead(Read):
    ticket_id: uuid.UUID
    number: int
    kind: str
    category: str | None
    priority: str | None
    status: str
    dealer_id: uuid.UUID | None
    created_at: datetime
    changed_at: datetime


class BehaviourRead(Read):
    vehicle_id: uuid.UUID
    trips: int
    distance_km: float
    harsh_events_per_100km: float
    assisted_driving_share: float
    night_share: float
    new_apps: list[str]
    destination_categories: dict[str, int]
    computed_at: datetime


class LifecycleRead(BaseModel):
    stage: str
    history: list[dict[str, Any]]


class PointsEntryRead(Read):
    id: uuid.UUID
    points: int
    balance_after: int
    cause: str
    reference: str
    note: str | None
    created_at: datetime


class PointsRead(BaseModel):
    owner_id: uuid.UUID
    balance: int
    entries: list[PointsEntryRead]


class Redemption(Body):
    points: int = Field(gt=0, le=1_000_000)
    coupon: ShortText
    # The app's own id of the redemption, so a retry does not spend twice.
    id: str = Field(min_length=1, max_length=64)


class ReferralCodeRead(BaseModel):
    owner_id: uuid.UUID
    code: str
    # The link the owner shares: opening it brings the code to the lead a friend leaves.
    link: str


class TimelineItem(BaseModel):
    at: datetime
    kind: str
    summary: str
    source: str


class Owner360(BaseModel):
    identity: Identity
    lifecycle: LifecycleRead
    vehicles: list[VehicleWithRoles]
    orders: list[OrderRead]
    service_history: list[ServiceVisitRead]
    leads: list[LeadRead]
    consents: list[ConsentRead]
    tags: list[str]
    segments: list[MembershipRead]
    nps_csat_history: list[ScoreRead]
    open_tickets: list[TicketRead]
    latest_behaviour: BehaviourRead | None
    service_due_date: date | None
    points: int
    household_id: uuid.UUID | None
    timeline: list[TimelineItem]


class ContactVerification(Body):
    """The contact the caller verified, as it checked it (it must be the owner's current one)."""

    kind: Literal["email", "phone"]
    value: str = Field(min_length=3, max_length=254)


class MergeCreate(Body):
    merged_owner_id: uuid.UUID
    reason: str = Field(min_length=3, max_length=500)


class MergeRead(Read):
    id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    matched_on: list[str]
    moved: dict[str, int]
    reason: str
    merged_by: str
    merged_at: datetime


class DuplicateCandidate(BaseModel):
    owner_id: uuid.UUID
    matched_on: list[str]


class ServiceConfirmation(BaseModel):
    service: str
    confirmed: bool
    records_erased: int | None = None
    completed_at: datetime | None = None


class ErasureRequestRead(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    requested_by: str
    requested_at: datetime
    status: str
    completed_at: datetime | None
    services: list[ServiceConfirmation]


class AuditEntryRead(Read):
    id: uuid.UUID
    actor: str
    actor_roles: list[str]
    owner_id: uuid.UUID
    action: str
    at: datetime
    source: str


class OwnerExport(BaseModel):
    owner_id: uuid.UUID
    generated_at: datetime
    profile: dict[str, Any]
    services: dict[str, Any]
    missing: dict[str, str]
