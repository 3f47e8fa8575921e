"""Points ledger and referrals."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Identity
from sqlmodel import Field

from services.profile.models.core import ProfileModel, timestamp_field


class PointsEntry(ProfileModel, table=True):
    """One movement of an owner's points; `reference` makes each cause count once."""

    __tablename__ = "points_ledger"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The order entries were written in (several can share a timestamp).
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True)
    )
    owner_id: uuid.UUID = Field(foreign_key="owners.id", index=True)
    points: int
    balance_after: int
    cause: str = Field(max_length=32)
    reference: str = Field(unique=True, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = timestamp_field(nullable=False)


class ReferralCode(ProfileModel, table=True):
    __tablename__ = "referral_codes"

    code: str = Field(primary_key=True, max_length=16)
    owner_id: uuid.UUID = Field(foreign_key="owners.id", unique=True)
    created_at: datetime = timestamp_field(nullable=False)
