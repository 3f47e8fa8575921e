"""The answer every service gives to `OwnerErasureRequested`: one contract per producer, the
same fields, so profile can show each service's confirmation on the request."""

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
