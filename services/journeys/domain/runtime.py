"""How owners enter a journey and move through it: holdouts, re-entry, awaited events and
the ids that make every step's effect happen once."""

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from services.journeys.domain import InstanceStatus
from services.journeys.domain.definitions import Reentry

# Entry


def in_holdout(journey_key: str, run_key: str, owner_id: uuid.UUID, percent: int) -> bool:
    """A stable draw: the same owner in the same run always lands on the same side."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{journey_key}:{run_key}:{owner_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def reentry_allows(reentry: "Reentry", latest: tuple[str, datetime] | None, now: datetime) -> bool:
    """Whether an owner whose latest instance is `latest` (status, entered) may enter again."""
    if latest is None:
        return True
    status, entered_at = latest
    if reentry.mode == "once":
        return False
    if reentry.mode == "after_exit" and InstanceStatus(status).running:
        return False
    return entered_at <= now - timedelta(hours=reentry.cooldown_hours)


def event_concerns(waiting: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether an awaited event is about what the instance waits on: the same vehicle, and
    for a recall a visit that carried the recall's code."""
    vehicle = waiting.get("vehicle_id")
    if vehicle and event.get("vehicle_id") and str(event["vehicle_id"]) != str(vehicle):
        return False
    code = waiting.get("recall_code")
    return not code or code in event.get("recall_codes", [])


def step_request_id(instance_id: uuid.UUID, step_id: str, visit: int) -> uuid.UUID:
    """The id of one step's effect: the same on every retry, so it is applied once."""
    return uuid.uuid5(instance_id, f"{step_id}:{visit}")
