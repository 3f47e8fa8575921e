"""The gateway's own small database: dealers it has learnt of, and their API keys."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, LargeBinary, SmallInteger, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.messaging.tables import add_messaging_tables


def utc_now() -> datetime:
    return datetime.now(UTC)


class GatewayModel(SQLModel, registry=registry()):
    """Base of the gateway's models; its own registry keeps its metadata apart."""


metadata = GatewayModel.metadata
add_messaging_tables(metadata)


class _Named(GatewayModel):
    """What the gateway knows of a dealer or a dealer group."""

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    region: str = Field(max_length=100)


class KnownDealer(_Named, table=True):
    """A projection of profile's dealers: keys can be issued only for these."""

    __tablename__ = "dealers"

    # Its dealer group, whose keys see it; as of the latest change applied (events may
    # arrive out of order).
    group_id: uuid.UUID | None = Field(default=None, index=True)
    group_changed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )


class KnownDealerGroup(_Named, table=True):
    """A projection of profile's dealer groups: group keys can be issued only for these."""

    __tablename__ = "dealer_groups"


class ApiKey(GatewayModel, table=True):
    """A key of one dealer, or of one dealer group (seeing every dealer of the group)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(dealer_id IS NULL) <> (dealer_group_id IS NULL)", name="api_keys_one_holder"
        ),
    )

    id: str = Field(primary_key=True, max_length=24)
    dealer_id: uuid.UUID | None = Field(default=None, foreign_key="dealers.id", index=True)
    dealer_group_id: uuid.UUID | None = Field(
        default=None, foreign_key="dealer_groups.id", index=True
    )
    secret_hash: str = Field(max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    replaces: str | None = Field(default=None, max_length=24)


class IdempotentRequest(GatewayModel, table=True):
    """A POST or PATCH sent with an `Idempotency-Key`: claimed while it runs, then its answer,
    replayed to the same caller's repeats until `expires_at`."""

    __tablename__ = "idempotent_requests"

    caller: str = Field(primary_key=True, max_length=300)  # kind:subject, never shared
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)  # sha256 of method, path and body
    status: int | None = Field(default=None, sa_column=Column(SmallInteger))  # None: running
    content_type: str | None = Field(default=None, sa_column=Column(Text))
    location: str | None = Field(default=None, sa_column=Column(Text))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
