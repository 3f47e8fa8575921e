"""Events published by the profile service on `cem.profile.>`."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from shared.contracts.privacy import ErasureCompleted, erasure_completed_type
from shared.messaging.envelope import Event, EventType


class ComponentBatch(BaseModel):
    component: str
    part_number: str
    batch_code: str


class DealerRegistered(Event):
    event_type = EventType("profile", "dealer", "registered")

    dealer_id: uuid.UUID
    code: str
    name: str
    city: str
    region: str


class DealerGroupRegistered(Event):
    """The middle of the dealer hierarchy (region -> dealer group -> dealer) gained a group."""

    event_type = EventType("profile", "dealer_group", "registered")

    group_id: uuid.UUID
    code: str
    name: str
    region: str


class DealerGroupChanged(Event):
    """A dealer joined a dealer group, moved to another or left its group (`group_id` None).
    Carries the dealer's own facts so a consumer that has not seen it registered yet can
    record it whole; `changed_at` orders changes that arrive out of order."""

    event_type = EventType("profile", "dealer", "group_changed")

    dealer_id: uuid.UUID
    code: str
    name: str
    region: str
    group_id: uuid.UUID | None = None
    previous_group_id: uuid.UUID | None = None
    changed_at: datetime


class OwnerRegistered(Event):
    event_type = EventType("profile", "owner", "registered")

    owner_id: uuid.UUID
    dealer_id: uuid.UUID | None = None
    city: str | None = None
    preferred_language: str = "en"


class VehicleRegistered(Event):
    event_type = EventType("profile", "vehicle", "registered")

    vehicle_id: uuid.UUID
    vin: str
    model: str
    trim: str | None = None
    production_date: date | None = None
    delivery_date: date | None = None
    owner_id: uuid.UUID | None = None
    selling_dealer_id: uuid.UUID | None = None
    servicing_dealer_id: uuid.UUID | None = None
    components: list[ComponentBatch] = []


class OrderStatusChanged(Event):
    event_type = EventType("profile", "order", "status_changed")

    order_id: uuid.UUID
    owner_id: uuid.UUID
    dealer_id: uuid.UUID
    model: str
    vin: str | None = None
    previous_status: str | None = None
    status: str
    changed_at: datetime


class ServiceVisitCompleted(Event):
    event_type = EventType("profile", "service_visit", "completed")

    visit_id: uuid.UUID
    dealer_id: uuid.UUID
    owner_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID
    vin: str
    # The vehicle's model, so a consumer need not have seen the vehicle's own event first.
    model: str | None = None
    visit_type: str
    visit_date: date
    mileage_km: int
    parts: list[ComponentBatch] = []
    cost: Decimal | None = None
    # Recall campaigns this visit carried out (journeys marks the recall complete).
    recall_codes: list[str] = []


class VehicleOwnershipChanged(Event):
    """A vehicle passed to another owner; effective from a date (drivers: `...drivers_changed`)."""

    event_type = EventType("profile", "vehicle", "ownership_changed")

    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    previous_owner_id: uuid.UUID | None = None
    servicing_dealer_id: uuid.UUID | None = None
    effective_from: date


class VehicleDriversChanged(Event):
    """A primary or secondary driver of a vehicle was added (`change` "added") or their role
    ended ("ended"), effective on a day; `primary_driver_id` and `secondary_driver_ids` are who
    drive it from that day on. Drivers are owner ids (events carry ids, not personal data)."""

    event_type = EventType("profile", "vehicle", "drivers_changed")

    vehicle_id: uuid.UUID
    vin: str
    owner_id: uuid.UUID | None = None
    driver_id: uuid.UUID
    role: str  # primary_driver or secondary_driver
    change: str  # added or ended
    effective_on: date
    primary_driver_id: uuid.UUID | None = None
    secondary_driver_ids: list[uuid.UUID] = []


class LeadCreated(Event):
    """Interest in a car: a lead or a test-drive request, for the dealer to follow up."""

    event_type = EventType("profile", "lead", "created")

    lead_id: uuid.UUID
    kind: str  # "lead" or "test_drive"
    owner_id: uuid.UUID | None = None
    dealer_id: uuid.UUID
    model: str | None = None
    channel: str
    requested_slot: datetime | None = None
    created_at: datetime


class ConsentChanged(Event):
    """One purpose on one channel granted or withdrawn. Purposes: location, service_messages,
    marketing, analysis, third_party; channels: app_push, sms, email, phone (location and
    analysis use channel "any")."""

    event_type = EventType("profile", "consent", "changed")

    owner_id: uuid.UUID
    purpose: str
    channel: str
    granted: bool
    notice_version: str
    source: str
    changed_at: datetime


class SegmentMembershipChanged(Event):
    """An owner entered (`entered`) or left a segment; `reasons` says which conditions held."""

    event_type = EventType("profile", "segment", "membership_changed")

    owner_id: uuid.UUID
    segment_key: str
    entered: bool
    dealer_id: uuid.UUID | None = None
    reasons: list[str] = []
    changed_at: datetime


class LifecycleStageChanged(Event):
    """awareness, purchase, delivery, usage_and_service, loyalty."""

    event_type = EventType("profile", "lifecycle", "stage_changed")

    owner_id: uuid.UUID
    previous_stage: str | None = None
    stage: str
    changed_at: datetime


class OwnerErasureRequested(Event):
    """Every service erases or anonymises the owner's personal data and answers with its own
    `...ErasureCompleted` (same `request_id`)."""

    event_type = EventType("profile", "erasure", "requested")

    request_id: uuid.UUID
    owner_id: uuid.UUID
    requested_at: datetime


class ProfileErasureCompleted(ErasureCompleted):
    event_type = erasure_completed_type("profile")


class OwnersMerged(Event):
    """Two owner records were found to be one person and merged (explicitly, by staff): every
    service should treat `merged_owner_id` as `survivor_owner_id` from now on."""

    event_type = EventType("profile", "owner", "merged")

    survivor_owner_id: uuid.UUID
    merged_owner_id: uuid.UUID
    matched_on: list[str] = []
    merged_at: datetime


class HouseholdMembershipChanged(Event):
    """An owner joined (`joined`) or left a household; journeys cap contacts per household."""

    event_type = EventType("profile", "household", "membership_changed")

    household_id: uuid.UUID
    owner_id: uuid.UUID
    joined: bool
    changed_at: datetime
