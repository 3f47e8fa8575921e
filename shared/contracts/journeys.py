"""Events published by the journeys service on `cem.journeys.>`: the steps that other services
carry out (a case, points, a tag, a survey), and the messages sent. Every request carries a
`request_id` that is unique per journey instance and step, so consumers apply it once."""

import uuid
from datetime import datetime

from shared.contracts.privacy import (
    ErasureCompleted,
    OwnerDataExported,
    erasure_completed_type,
    owner_data_exported_type,
)
from shared.messaging.envelope import Event, EventType


class MessageSent(Event):
    event_type = EventType("journeys", "message", "sent")

    message_id: uuid.UUID
    owner_id: uuid.UUID
    journey_key: str | None = None
    channel: str
    category: str  # safety, service, marketing
    template_key: str
    sent_at: datetime
    vehicle_id: uuid.UUID | None = None


class TicketRequested(Event):
    """A journey step asks tickets to open a case (the proactive-service campaign)."""

    event_type = EventType("journeys", "ticket", "requested")

    request_id: uuid.UUID
    journey_key: str
    kind: str
    category: str | None = None
    priority: str = "normal"
    owner_id: uuid.UUID
    vehicle_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    description: str
    source_type: str | None = None  # e.g. "quality_alert"
    source_id: str | None = None
    requested_at: datetime


class SurveyRequested(Event):
    """A journey step asks feedback to invite the owner to a survey."""

    event_type = EventType("journeys", "survey", "requested")

    request_id: uuid.UUID
    journey_key: str
    owner_id: uuid.UUID
    survey_key: str
    touchpoint: str
    requested_at: datetime


class PointsAwarded(Event):
    """A journey step awards loyalty points (profile keeps the ledger)."""

    event_type = EventType("journeys", "points", "awarded")

    request_id: uuid.UUID
    journey_key: str
    owner_id: uuid.UUID
    points: int
    reason: str
    awarded_at: datetime


class TagChanged(Event):
    """A journey step adds (`added`) or removes a tag on the owner (profile keeps tags)."""

    event_type = EventType("journeys", "tag", "changed")

    request_id: uuid.UUID
    journey_key: str
    owner_id: uuid.UUID
    tag: str
    added: bool
    changed_at: datetime


class CouponIssued(Event):
    """A journey step gives the owner a coupon (e.g. the child-seat coupon of the family
    anniversary journey); `request_id` makes it issued once."""

    event_type = EventType("journeys", "coupon", "issued")

    request_id: uuid.UUID
    journey_key: str
    owner_id: uuid.UUID
    coupon: str
    valid_until: datetime
    issued_at: datetime


class JourneyCompleted(Event):
    """An owner's instance of a journey finished: `completed` (ran to the end) or `exited`
    (an exit step)."""

    event_type = EventType("journeys", "journey", "completed")

    instance_id: uuid.UUID
    journey_key: str
    version: int
    owner_id: uuid.UUID
    status: str
    entered_at: datetime
    finished_at: datetime


class JourneysErasureCompleted(ErasureCompleted):
    event_type = erasure_completed_type("journeys")


class JourneysOwnerDataExported(OwnerDataExported):
    event_type = owner_data_exported_type("journeys")
