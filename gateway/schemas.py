import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ApiKeyRead(BaseModel):
    """A key as listed: never its secret, never its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    dealer_id: uuid.UUID | None  # one of these two: whose key it is
    dealer_group_id: uuid.UUID | None
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


@dataclass(frozen=True)
class KeyHolder:
    """Whose keys: one dealer's, or one dealer group's."""

    dealer_id: uuid.UUID | None = None
    dealer_group_id: uuid.UUID | None = None

    def __str__(self) -> str:
        if self.dealer_group_id:
            return f"Dealer group {self.dealer_group_id}"
        return f"Dealer {self.dealer_id}"
