"""Events published by the feedback service on `cem.feedback.>`.

The tickets service consumes `DetractorDetected` and `PostFlagged` (the start of the closed
loop); journeys turns `SurveyInvitationCreated` into a message. Fields are only ever added
(consumers read tolerantly); a breaking change gets a new major version.
"""

import uuid
from datetime import datetime

from shared.contracts.privacy import (
    ErasureCompleted,
    OwnerDataExported,
    erasure_completed_type,
    owner_data_exported_type,
)
from shared.messaging.envelope import Event, EventType


class SurveyInvitationCreated(Event):
    """An invitation was issued: deliver `link` to the owner (the token is in no other place)."""

    event_type = EventType("feedback", "invitation", "created")

    invitation_id: uuid.UUID
    survey_key: str
    survey_version: int
    kind: str
    owner_id: uuid.UUID
    dealer_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    touchpoint: str
    language: str = "en"
    # The survey's title in the owner's language, for the message.
    title: str
    link: str
    token: str
    expires_at: datetime
    ticket_id: uuid.UUID | None = None


class ResponseSubmitted(Event):
    """An owner answered a survey; the facts analytics and journeys need, with its analysis."""

    event_type = EventType("feedback", "response", "submitted")

    response_id: uuid.UUID
    invitation_id: uuid.UUID
    survey_key: str
    survey_version: int
    kind: str
    score: int | None = None
    band: str | None = None
    owner_id: uuid.UUID
    dealer_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    model: str | None = None
    touchpoint: str
    lifecycle_stage: str | None = None
    channel: str
    language: str = "en"
    comment: str | None = None
    topics: list[str] = []
    sentiment: float | None = None
    severity: str | None = None
    ticket_id: uuid.UUID | None = None
    submitted_at: datetime


class DetractorDetected(Event):
    """An answer that needs a case: a detractor score (NPS 0-6, CSAT 1-2), or safety words in
    any answer's comment (`reason` says which)."""

    event_type = EventType("feedback", "detractor", "detected")

    response_id: uuid.UUID
    survey_id: uuid.UUID
    owner_id: uuid.UUID
    dealer_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    model: str | None = None
    touchpoint: str
    lifecycle_stage: str | None = None
    scale: str
    score: int
    reason: str = "detractor"
    severity: str | None = None
    # The verbatim, as the owner wrote it.
    comment: str | None = None
    language: str = "en"
    topics: list[str] = []
    # The case whose resolution this survey followed up, when it was one.
    ticket_id: uuid.UUID | None = None
    submitted_at: datetime


class PostFlagged(Event):
    """A review or community post that text analysis flagged as a complaint or for safety."""

    event_type = EventType("feedback", "post", "flagged")

    post_id: uuid.UUID
    source: str | None = None
    source_id: str | None = None
    url: str | None = None
    owner_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    vin: str | None = None
    channel: str = "community"
    flag: str
    # Tickets' priority for the case (low, normal, high, urgent) and the text's severity.
    priority: str = "normal"
    severity: str | None = None
    # The main topic; `topics` lists every topic named, the main one first.
    category: str | None = None
    topics: list[str] = []
    sentiment: float | None = None
    language: str = "en"
    # The verbatim (the whole post, up to 10,000 characters).
    excerpt: str
    flagged_at: datetime


class FeedbackErasureCompleted(ErasureCompleted):
    event_type = erasure_completed_type("feedback")


class FeedbackOwnerDataExported(OwnerDataExported):
    event_type = owner_data_exported_type("feedback")
