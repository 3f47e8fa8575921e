"""Journeys' API models. Definitions themselves are the domain's `JourneySpec`."""

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from services.journeys.domain import KEY_PATTERN, DefinitionStatus, Language
from services.journeys.domain.contact import TemplateVariant, placeholders
from shared.pagination import Page

Scalar = Annotated[str, StringConstraints(max_length=2000)] | int | float | bool | None


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DefinitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key: str
    version: int
    status: DefinitionStatus
    category: str
    trigger_type: str
    spec: dict[str, Any]
    created_by: str
    created_at: datetime
    activated_at: datetime | None


DefinitionPage = Page[DefinitionRead]


class TransitionCreate(_Input):
    to: DefinitionStatus


class TemplateInstall(_Input):
    template: str = Field(min_length=1, max_length=64)
    key: str | None = Field(default=None, pattern=KEY_PATTERN)


class RunCreate(_Input):
    """Facts every message of the run may use, e.g. the release's version and article link."""

    context: dict[str, Scalar] = Field(default_factory=dict, max_length=50)


class RunRead(BaseModel):
    run_key: str
    entered: int
    held_out: int


class PreviewRead(BaseModel):
    would_enter: int
    held_out: int
    sample: list[uuid.UUID]


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    status: str
    not_before: datetime
    sent_at: datetime | None


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    body: str
    link: str | None
    category: str
    template_key: str
    language: str
    created_at: datetime
    read_at: datetime | None
    deliveries: list[DeliveryRead] = []


MessagePage = Page[MessageRead]


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    journey_key: str | None
    instance_id: uuid.UUID | None
    step_id: str | None
    channel: str | None
    outcome: str
    reason: str
    detail: str | None
    at: datetime


DecisionPage = Page[DecisionRead]


class MessageTemplatePut(_Input):
    variants: dict[Language, TemplateVariant]
    link: str | None = Field(default=None, max_length=2000)

    @field_validator("variants")
    @classmethod
    def _english_and_well_formed(cls, variants: dict) -> dict:
        if Language.EN not in variants:
            raise ValueError("an English variant is required")
        for variant in variants.values():
            placeholders(variant.title)
            placeholders(variant.body)
        return variants


class MessageTemplateRead(BaseModel):
    key: str
    variants: dict[str, dict[str, str]]
    link: str | None


class PreferencesPut(_Input):
    """Quiet hours ("HH:MM", local) and time zone, as the owner sets them in the app."""

    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is None:
            return zone
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {zone!r}") from error
        return zone

    @model_validator(mode="after")
    def _both_ends(self) -> "PreferencesPut":
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start and quiet_end go together")
        return self


class PreferencesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    owner_id: uuid.UUID = Field(validation_alias="id")
    language: str
    quiet_start: str | None
    quiet_end: str | None
    timezone: str | None
    household_id: uuid.UUID | None


class RecallCreate(_Input):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$")
    title_en: str = Field(min_length=1, max_length=200)
    title_zh: str = Field(min_length=1, max_length=200)
    vins: list[str] = Field(min_length=1, max_length=100_000)

    @field_validator("vins")
    @classmethod
    def _vins(cls, vins: list[str]) -> list[str]:
        bad = [vin for vin in vins if len(vin) != 17 or not vin.isalnum()]
        if bad:
            raise ValueError(f"not a 17-character VIN: {', '.join(bad[:5])}")
        return [vin.upper() for vin in vins]


class RecallRead(BaseModel):
    id: uuid.UUID
    code: str
    title: dict[str, str]
    vehicles: int
    resolved: int
    notified: int
    completed: int
    reach_rate: float
    completion_rate: float
    unresolved_vins: list[str]
    created_at: datetime


class RecallVehicleRead(BaseModel):
    vin: str
    owner_id: uuid.UUID | None
    dealer_id: uuid.UUID | None
    completed_at: datetime | date | None
    proof_of_notice: dict[str, Any] | None
