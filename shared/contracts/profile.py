"""Events published by the profile service on `cem.profile.>`."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

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
    visit_type: str
    visit_date: date
    mileage_km: int
    parts: list[ComponentBatch] = []
    cost: Decimal | None = None
