"""Per-owner keys (crypto-shredding), erasure requests with each service's confirmation,
identity merges and the audit log of staff reads."""

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from services.profile.models.core import ProfileModel, timestamp_field


class OwnerKey(ProfileModel, table=True):
    """The owner's data key, wrapped with the service's master key; erasure deletes it."""

    __tablename__ = "owner_keys"

    owner_id: uuid.UUID = Field(primary_key=True)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = timestamp_field(nullable=False)


class ErasureRequest(ProfileModel, table=True):
    __tablename__ = "erasure_requests"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(index=True)
    requested_by: str = Field(max_length=200)
    expected_services: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    requested_at: datetime = timestamp_field(nullable=False)
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ErasureConfirmation(ProfileModel, table=True):
    __tablename__ = "erasure_confirmations"

    request_id: uuid.UUID = Field(foreign_key="erasure_requests.id", primary_key=True)
    service: str = Field(max_length=32, primary_key=True)
    records_erased: int
    completed_at: datetime = timestamp_field(nullable=False)


class OwnerMerge(ProfileModel, table=True):
    """An explicit merge of a duplicate into the surviving owner, with what matched and moved."""

    __tablename__ = "owner_merges"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    survivor_id: uuid.UUID = Field(foreign_key="owners.id", index=True)
    merged_id: uuid.UUID = Field(index=True, unique=True)
    matched_on: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    moved: dict = Field(sa_column=Column(JSONB, nullable=False))
    reason: str = Field(max_length=500)
    merged_by: str = Field(max_length=200)
    merged_at: datetime = timestamp_field(nullable=False)


class AuditEntry(ProfileModel, table=True):
    """A staff read (or export, or erasure) of an owner's personal data, in profile or, for an
    export, in the service named by `source` (which recorded it as an event)."""

    __tablename__ = "audit_log"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    actor: str = Field(max_length=200)
    actor_roles: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    owner_id: uuid.UUID = Field(index=True)
    action: str = Field(max_length=32)
    at: datetime = timestamp_field(nullable=False)
    source: str = Field(
        default="profile", max_length=32, sa_column_kwargs={"server_default": "profile"}
    )
