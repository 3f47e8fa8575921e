"""Profile's API models: `XCreate` in, `XRead` out. Bodies refuse unknown fields."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from services.profile.domain import (
    CONTACT_KINDS,
    ConsentChannel,
    ConsentPurpose,
    OrderStatus,
    VisitType,
    vin_problem,
)
from shared.pagination import Page


def _valid_vin(vin: str) -> str:
    if problem := vin_problem(vin):
        raise ValueError(f"invalid VIN: {problem}")
    return vin


Vin = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_valid_vin)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,32}$")]
DealerCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,32}$")]
RecallCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
Language = Annotated[str, StringConstraints(pattern=r"^(en|zh)$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DealerCreate(Body):
    code: DealerCode
    name: Name
    city: ShortText
    region: ShortText


class DealerRead(Read):
    id: uuid.UUID
    code: str
    name: str
    city: str
    region: str
    group_id: uuid.UUID | None = None
    created_at: datetime


class Contacts(Body):
    """An owner's contacts, and which of them the sender verified (a one-time code, a signed
    contract): only a verified contact identifies the person across records."""

    email: EmailStr | None = None
    phone: Phone | None = None
    email_verified: bool = False
    phone_verified: bool = False

    @field_validator("email_verified", "phone_verified")
    @classmethod
    def _contact_given(cls, verified: bool, info: ValidationInfo) -> bool:
        kind = info.field_name.removesuffix("_verified")
        if verified and info.data.get(kind) is None:
            raise ValueError(f"there is no {kind} to be verified")
        return verified

    def verified_contacts(self) -> list[str]:
        return [kind for kind in CONTACT_KINDS if getattr(self, f"{kind}_verified")]


# The flags above are about the contacts, not fields of the owner record.
CONTACT_FLAGS = frozenset({"email_verified", "phone_verified"})


class OwnerCreate(Contacts):
    full_name: Name
    city: ShortText | None = None
    preferred_language: Language = "en"
    external_id: ExternalId | None = None


class OwnerRead(Read):
    id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    city: str | None
    preferred_language: str
    email_verified_by: str | None = None  # app, dms or staff; None: unverified
    email_verified_at: datetime | None = None
    phone_verified_by: str | None = None
    phone_verified_at: datetime | None = None
    created_at: datetime


class ComponentBatchIn(Body):
    component: ShortText
    part_number: ExternalId
    batch_code: ExternalId


class ComponentBatchRead(Read):
    component: str
    part_number: str
    batch_code: str


class VehicleCreate(Body):
    vin: Vin
    model: ShortText
    trim: ShortText | None = None
    production_date: date | None = None
    delivery_date: date | None = None
    owner_id: uuid.UUID | None = None
    components: list[ComponentBatchIn] = Field(default_factory=list, max_length=200)


class VehicleRead(Read):
    id: uuid.UUID
    vin: str
    model: str
    trim: str | None
    production_date: date | None
    delivery_date: date | None
    owner_id: uuid.UUID | None
    selling_dealer_id: uuid.UUID | None
    servicing_dealer_id: uuid.UUID | None
    components: list[ComponentBatchRead]
    created_at: datetime


class OrderCreate(Body):
    owner_id: uuid.UUID
    model: ShortText
    vin: Vin | None = None
    external_id: ExternalId | None = None


class OrderStatusUpdate(Body):
    status: OrderStatus
    changed_at: datetime | None = None


class OrderStatusEntryRead(Read):
    status: OrderStatus
    changed_at: datetime


class OrderRead(Read):
    id: uuid.UUID
    dealer_id: uuid.UUID
    owner_id: uuid.UUID
    external_id: str | None
    model: str
    vin: str | None
    status: OrderStatus
    status_changed_at: datetime
    timeline: list[OrderStatusEntryRead]
    created_at: datetime


class ServiceVisitCreate(Body):
    vin: Vin
    visit_type: VisitType
    visit_date: date
    mileage_km: int = Field(ge=0, le=3_000_000)
    parts: list[ComponentBatchIn] = Field(default_factory=list, max_length=200)
    # Recall campaigns this visit carried out.
    recall_codes: list[RecallCode] = Field(default_factory=list, max_length=20)
    cost: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    external_id: ExternalId | None = None


class ServiceVisitRead(Read):
    id: uuid.UUID
    dealer_id: uuid.UUID
    vehicle_id: uuid.UUID
    owner_id: uuid.UUID | None
    external_id: str | None
    visit_type: VisitType
    visit_date: date
    mileage_km: int
    parts: list[ComponentBatchRead]
    recall_codes: list[str]
    cost: Decimal | None
    created_at: datetime


# DMS import: records keyed by the dealer's own external ids, so a batch can be resent.
MAX_IMPORT_RECORDS = 1000


class OwnerImport(Contacts):
    external_id: ExternalId
    full_name: Name
    city: ShortText | None = None
    preferred_language: Language = "en"


class VehicleImport(Body):
    vin: Vin
    model: ShortText
    trim: ShortText | None = None
    production_date: date | None = None
    delivery_date: date | None = None
    owner_external_id: ExternalId | None = None
    sold_by_this_dealer: bool = True
    components: list[ComponentBatchIn] = Field(default_factory=list, max_length=200)


class OrderImport(Body):
    external_id: ExternalId
    owner_external_id: ExternalId
    model: ShortText
    vin: Vin | None = None
    status: OrderStatus
    status_changed_at: datetime


class ServiceVisitImport(Body):
    external_id: ExternalId
    vin: Vin
    owner_external_id: ExternalId | None = None
    visit_type: VisitType
    visit_date: date
    mileage_km: int = Field(ge=0, le=3_000_000)
    parts: list[ComponentBatchIn] = Field(default_factory=list, max_length=200)
    # Recall campaigns this visit carried out.
    recall_codes: list[RecallCode] = Field(default_factory=list, max_length=20)
    cost: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)


Version = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Source = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class ConsentAnswer(Body):
    """An owner's answer for one purpose on one channel, to one version of the notice."""

    purpose: ConsentPurpose
    channel: ConsentChannel
    granted: bool
    notice_version: Version
    source: Source = "app"


class ConsentImport(ConsentAnswer):
    """An answer the owner gave at the dealership (signed with the purchase contract)."""

    owner_external_id: ExternalId
    source: Source = "dms"


class DmsImport(Body):
    owners: list[OwnerImport] = Field(default_factory=list, max_length=MAX_IMPORT_RECORDS)
    vehicles: list[VehicleImport] = Field(default_factory=list, max_length=MAX_IMPORT_RECORDS)
    orders: list[OrderImport] = Field(default_factory=list, max_length=MAX_IMPORT_RECORDS)
    service_visits: list[ServiceVisitImport] = Field(
        default_factory=list, max_length=MAX_IMPORT_RECORDS
    )
    # Several answers an owner (purposes and channels), so more records than the others.
    consents: list[ConsentImport] = Field(default_factory=list, max_length=4 * MAX_IMPORT_RECORDS)


class ImportCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportResult(BaseModel):
    owners: ImportCounts
    vehicles: ImportCounts
    orders: ImportCounts
    service_visits: ImportCounts
    consents: ImportCounts = Field(default_factory=ImportCounts)


DealerPage = Page[DealerRead]
OwnerPage = Page[OwnerRead]
VehiclePage = Page[VehicleRead]
OrderPage = Page[OrderRead]
ServiceVisitPage = Page[ServiceVisitRead]
