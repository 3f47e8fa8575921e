"""Profile's typed errors."""

from shared.errors import Conflict, InvalidInput, NotFound


class DealerNotFound(NotFound):
    code = "dealer_not_found"


class OwnerNotFound(NotFound):
    code = "owner_not_found"


class VehicleNotFound(NotFound):
    code = "vehicle_not_found"


class OrderNotFound(NotFound):
    code = "order_not_found"


class ServiceVisitNotFound(NotFound):
    code = "service_visit_not_found"


class DuplicateDealerCode(Conflict):
    code = "dealer_code_taken"


class DuplicateVin(Conflict):
    code = "vin_already_registered"


class DuplicateExternalId(Conflict):
    code = "external_id_taken"


class IllegalOrderTransition(Conflict):
    code = "illegal_order_transition"


class UnknownReference(InvalidInput):
    """A body names a record the caller cannot see (reported as a field error, not a 404)."""

    code = "unknown_reference"
