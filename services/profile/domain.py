"""Pure profile rules: VIN validation and the order status sequence."""

from enum import StrEnum

_VIN_LETTER_VALUES = {
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_problem(vin: str) -> str | None:
    """Why `vin` is not a valid 17-character VIN (ISO 3779 with check digit), or None."""
    if len(vin) != 17:
        return "must be 17 characters"
    total = 0
    for character, weight in zip(vin, _VIN_WEIGHTS, strict=True):
        if character.isdigit():
            value = int(character)
        elif character in _VIN_LETTER_VALUES:
            value = _VIN_LETTER_VALUES[character]
        else:
            return f"contains {character!r}; only digits and capital letters except I, O, Q"
        total += value * weight
    expected = "X" if total % 11 == 10 else str(total % 11)
    if vin[8] != expected:
        return f"check digit (9th character) is {vin[8]!r}, expected {expected!r}"
    return None


class OrderStatus(StrEnum):
    ORDERED = "ordered"
    LEAD = "lead"
    IN_PRODUCTION = "in_production"
    IN_TRANSIT = "in_transit"
    READY_FOR_DELIVERY = "ready_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# A lead (a prospect's order not yet signed) comes first: it moves on to ordered or further.
_ORDER_SEQUENCE = [
    OrderStatus.LEAD,
    OrderStatus.ORDERED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.IN_TRANSIT,
    OrderStatus.READY_FOR_DELIVERY,
    OrderStatus.DELIVERED,
]
FINAL_ORDER_STATUSES = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED})


def order_transition_problem(current: OrderStatus, new: OrderStatus) -> str | None:
    """Orders move forward (steps may be skipped, as DMSs report late) or get cancelled."""
    if current in FINAL_ORDER_STATUSES:
        return f"order is {current}; its status can no longer change"
    if new is OrderStatus.CANCELLED:
        return None
    if _ORDER_SEQUENCE.index(new) <= _ORDER_SEQUENCE.index(current):
        return f"order cannot move from {current} to {new}"
    return None


class VisitType(StrEnum):
    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    WARRANTY = "warranty"
    RECALL = "recall"
    INSPECTION = "inspection"


class ContactSource(StrEnum):
    """Who vouched for a contact: the owner app (a one-time code or link), a dealer's system
    (its DMS import or API key: a signed contract), or customer service."""

    APP = "app"
    DMS = "dms"
    STAFF = "staff"


CONTACT_KINDS = ("email", "phone")


class DealerRelation(StrEnum):
    """How a dealer came to know an owner or a vehicle; any relation grants visibility."""

    REGISTERED = "registered"
    SOLD = "sold"
    SERVICES = "services"
    ORDERED = "ordered"
    LEAD = "lead"


class LeadKind(StrEnum):
    LEAD = "lead"
    TEST_DRIVE = "test_drive"


class ConsentPurpose(StrEnum):
    # Location data from the car is sensitive personal information under PIPL: off by default.
    LOCATION = "location"
    SERVICE_MESSAGES = "service_messages"
    MARKETING = "marketing"
    ANALYSIS = "analysis"
    THIRD_PARTY = "third_party"


class ConsentChannel(StrEnum):
    APP_PUSH = "app_push"
    SMS = "sms"
    EMAIL = "email"
    PHONE = "phone"
    ANY = "any"


# Purposes that are about data use, not contact: they have no channel of their own.
CHANNEL_FREE_PURPOSES = frozenset({ConsentPurpose.LOCATION, ConsentPurpose.ANALYSIS})


def consent_channel_problem(purpose: ConsentPurpose, channel: ConsentChannel) -> str | None:
    if purpose in CHANNEL_FREE_PURPOSES and channel is not ConsentChannel.ANY:
        return f"purpose {purpose} is not per channel; use channel 'any'"
    if purpose not in CHANNEL_FREE_PURPOSES and channel is ConsentChannel.ANY:
        return f"purpose {purpose} is granted per channel (app_push, sms, email, phone)"
    return None


class VehicleRoleKind(StrEnum):
    OWNER = "owner"
    PRIMARY_DRIVER = "primary_driver"
    SECONDARY_DRIVER = "secondary_driver"


class LifecycleStage(StrEnum):
    AWARENESS = "awareness"
    PURCHASE = "purchase"
    DELIVERY = "delivery"
    USAGE_AND_SERVICE = "usage_and_service"
    LOYALTY = "loyalty"


def lifecycle_stage(
    *,
    orders: int,
    delivered_orders: int,
    service_visits: int,
    converted_referrals: int,
) -> tuple[LifecycleStage, str]:
    """The stage the facts put an owner in, and the fact that decided it. A repurchase or a
    referral that bought makes a loyal owner; everyone known to us is at least aware."""
    if delivered_orders >= 2:
        return LifecycleStage.LOYALTY, "repurchase"
    if converted_referrals:
        return LifecycleStage.LOYALTY, "referral bought a car"
    if delivered_orders and service_visits:
        return LifecycleStage.USAGE_AND_SERVICE, "first service visit"
    if delivered_orders:
        return LifecycleStage.DELIVERY, "car delivered"
    if orders:
        return LifecycleStage.PURCHASE, "order placed"
    return LifecycleStage.AWARENESS, "known contact"


class PointsCause(StrEnum):
    COMMUNITY_ENGAGEMENT = "community_engagement"
    SURVEY_ANSWER = "survey_answer"
    REFERRAL = "referral"
    JOURNEY = "journey"
    SUPER_USER = "super_user"
    REDEMPTION = "redemption"


def points_problem(balance: int, change: int) -> str | None:
    if change == 0:
        return "a ledger entry moves at least one point"
    if balance + change < 0:
        return f"balance is {balance}; cannot take {-change} points"
    return None


def mask_email(email: str | None) -> str | None:
    if not email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return "***" + phone[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[:1] + "*" * max(len(name) - 1, 1)


# Points each cause earns (redemptions spend what the coupon costs).
POINTS_FOR_EVENT = {"community_post_created": 10, "community_post_engaged": 2}
POINTS_FOR_SURVEY_ANSWER = 20
POINTS_FOR_REFERRAL = 1000
SUPER_USER_BONUS = 500
