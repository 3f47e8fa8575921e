"""Who may do what with cases and configuration, and how a caller is named in history."""

from dataclasses import dataclass

from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden

# Staff who read cases; of them, CX agents (and admins) also work on them.
READER_ROLES = (StaffRole.CX_AGENT, StaffRole.QUALITY_ENGINEER)


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str

    @property
    def responds(self) -> bool:
        """A dealer or staff member acting on a case counts as a response to the owner."""
        return self.kind in (CallerKind.DEALER, CallerKind.STAFF)


SYSTEM = Actor("system", "tickets")


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.kind.value, caller.subject)


def require_reader(caller: Caller) -> None:
    if caller.kind is CallerKind.SERVICE:
        raise Forbidden("Cases are read by owners, dealers and staff")
    if caller.is_staff:
        caller.require_staff(*READER_ROLES)


def require_agent(caller: Caller) -> None:
    """Working on a case (moving it, internal notes, pauses): its dealer or a CX agent."""
    if caller.kind is not CallerKind.DEALER:
        caller.require_staff(StaffRole.CX_AGENT)


def require_admin(caller: Caller) -> None:
    caller.require_staff(StaffRole.ADMIN)
