import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ApiKeyRead(BaseModel):
    """A key as listed: never its secret, never its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    dealer_id: uuid.UUID
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    replaces: str | None


class ApiKeyIssued(ApiKeyRead):
    """Returned once, when a key is issued or rotated: `key` is shown only here."""

    key: str


class ApiKeyList(BaseModel):
    items: list[ApiKeyRead]
