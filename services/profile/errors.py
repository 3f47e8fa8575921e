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


class LeadNotFound(NotFound):
    code = "lead_not_found"


class HouseholdNotFound(NotFound):
    code = "household_not_found"


class HouseholdMemberNotFound(NotFound):
    """The owner neither belongs to the household nor left it through the API."""

    code = "household_member_not_found"


class DealerGroupNotFound(NotFound):
    code = "dealer_group_not_found"


class SegmentNotFound(NotFound):
    code = "segment_not_found"


class ErasureRequestNotFound(NotFound):
    code = "erasure_request_not_found"


class DuplicateSegmentKey(Conflict):
    code = "segment_key_taken"


class DuplicateDealerGroupCode(Conflict):
    code = "dealer_group_code_taken"


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class IllegalOwnershipChange(Conflict):
    code = "illegal_ownership_change"


class AlreadyInHousehold(Conflict):
    code = "already_in_household"


class MergeRefused(Conflict):
    code = "merge_refused"


class OwnerErased(Conflict):
    code = "owner_erased"
