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
    IN_PRODUCTION = "in_production"
    IN_TRANSIT = "in_transit"
    READY_FOR_DELIVERY = "ready_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


_ORDER_SEQUENCE = [
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


class DealerRelation(StrEnum):
    """How a dealer came to know an owner or a vehicle; any relation grants visibility."""

    REGISTERED = "registered"
    SOLD = "sold"
    SERVICES = "services"
    ORDERED = "ordered"
