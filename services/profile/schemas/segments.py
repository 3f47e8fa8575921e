"""API models of segments, their preview and memberships."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from services.profile.schemas.core import Body, Name
from shared.pagination import Page

SegmentKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]

CONDITION_DOC = (
    "A condition tree: and/or/not over compare, in, has_tag and event (past events within a "
    "time window). See GET /segment-attributes for the attributes a condition may name."
)
EXAMPLE = {
    "kind": "and",
    "conditions": [
        {"kind": "compare", "attribute": "latest_nps", "op": "ge", "value": 9},
        {"kind": "event", "event_type": "community_post_created", "within_days": 30,
         "min_count": 3},
    ],
}  # fmt: skip


class SegmentCreate(Body):
    key: SegmentKey
    name: Name
    description: str | None = Field(default=None, max_length=2000)
    condition: dict[str, Any] = Field(description=CONDITION_DOC, examples=[EXAMPLE])


class SegmentUpdate(Body):
    name: Name
    description: str | None = Field(default=None, max_length=2000)
    condition: dict[str, Any] = Field(description=CONDITION_DOC, examples=[EXAMPLE])


class SegmentPreviewRequest(Body):
    condition: dict[str, Any] = Field(description=CONDITION_DOC, examples=[EXAMPLE])
    sample_size: int = Field(default=10, ge=0, le=100)


class SampleOwner(BaseModel):
    owner_id: uuid.UUID
    reasons: list[str]


class SegmentPreview(BaseModel):
    count: int
    sample: list[SampleOwner]


class SegmentRead(BaseModel):
    id: uuid.UUID
    key: str
    name: str
    description: str | None
    condition: dict[str, Any]
    summary: str
    version: int
    members: int
    created_at: datetime
    updated_at: datetime


class RecomputeResult(BaseModel):
    key: str
    entered: int
    left: int
    members: int


class MembershipRead(BaseModel):
    segment_key: str
    segment_name: str
    reasons: list[str]
    entered_at: datetime


class AttributeRead(BaseModel):
    name: str
    type: str
    operators: list[str]
    description: str


SegmentPage = Page[SegmentRead]
MemberPage = Page[SampleOwner]
