"""Tickets' typed errors."""

from shared.errors import Conflict, InvalidInput, NotFound


class TicketNotFound(NotFound):
    code = "ticket_not_found"


class RoutingRuleNotFound(NotFound):
    code = "routing_rule_not_found"


class SlaPolicyNotFound(NotFound):
    code = "sla_policy_not_found"


class QueueNotFound(NotFound):
    code = "queue_not_found"


class DealerSettingsNotFound(NotFound):
    code = "dealer_settings_not_found"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class CannotPause(Conflict):
    code = "cannot_pause"


class DuplicateSlaPolicy(Conflict):
    code = "sla_policy_exists"


class DuplicateQueue(Conflict):
    code = "queue_exists"


class UnknownReference(InvalidInput):
    """A body names a record the caller cannot use (reported as a field error, not a 404)."""

    code = "unknown_reference"


class OwnerDataNotFound(NotFound):
    code = "owner_data_not_found"
