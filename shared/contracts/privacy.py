"""The owners' privacy contracts every service but profile publishes, one per producer with
the same fields: its answer to `OwnerErasureRequested`, so profile can show each service's
confirmation on the request, and its record of a staff export, so profile can write it to the
owner's audit log."""

import uuid
from datetime import datetime

from shared.messaging.envelope import Event, EventType


class ErasureCompleted(Event):
    """Base of each service's confirmation; subclasses set `event_type` to their own stream."""

    request_id: uuid.UUID
    owner_id: uuid.UUID
    service: str
    records_erased: int = 0
    completed_at: datetime


def erasure_completed_type(service: str) -> EventType:
    return EventType(service, "erasure", "completed")


class OwnerDataExported(Event):
    """Base of each service's record that staff exported an owner's data from it (an owner's
    own export is not recorded); subclasses set `event_type` to their own stream."""

    owner_id: uuid.UUID
    service: str
    actor: str
    actor_roles: list[str] = []
    exported_at: datetime


def owner_data_exported_type(service: str) -> EventType:
    return EventType(service, "owner_data", "exported")
