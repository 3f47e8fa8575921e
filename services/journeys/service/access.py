"""Who may do what: marketing (and admins) write journeys; CX agents and quality engineers
read them and the decision log; owners reach only their own inbox, preferences and export."""

import uuid

from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden

WRITERS = (StaffRole.MARKETING,)
READERS = (StaffRole.MARKETING, StaffRole.CX_AGENT, StaffRole.QUALITY_ENGINEER)
# Recalls are quality engineering's campaigns as much as marketing's.
RECALL_WRITERS = (StaffRole.MARKETING, StaffRole.QUALITY_ENGINEER)


def require_writer(caller: Caller) -> None:
    caller.require_staff(*WRITERS)


def require_reader(caller: Caller) -> None:
    caller.require_staff(*READERS)


def require_recall_writer(caller: Caller) -> None:
    caller.require_staff(*RECALL_WRITERS)


def require_owner(caller: Caller) -> uuid.UUID:
    if caller.kind is not CallerKind.OWNER or caller.owner_id is None:
        raise Forbidden("Only owners have an inbox")
    return caller.owner_id


def may_export(caller: Caller, owner_id: uuid.UUID) -> bool:
    """The owner themselves (another owner is not found), or customer service on their
    behalf, as profile asks when it gathers an export."""
    if caller.kind is CallerKind.OWNER:
        return caller.owner_id == owner_id
    caller.require_staff(StaffRole.CX_AGENT)
    return True
