"""Who may do what in feedback, beyond the row scopes the repository applies."""

from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden

# Staff who shape surveys, triggers and the topic taxonomy.
CONFIGURERS = (StaffRole.CX_AGENT, StaffRole.MARKETING)


def require_configurer(caller: Caller) -> None:
    caller.require_staff(*CONFIGURERS)


def require_config_reader(caller: Caller) -> None:
    """Any staff member may read configuration; dealers and owners may not."""
    if not caller.is_staff:
        raise Forbidden("Survey configuration is for staff")


def require_ingester(caller: Caller) -> None:
    """Connectors run as services; staff may load a batch by hand."""
    if caller.kind is not CallerKind.SERVICE:
        caller.require_staff(*CONFIGURERS)
