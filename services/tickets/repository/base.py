"""The base every tickets query class shares, and the scope of a caller's cases."""

from sqlalchemy import ColumnElement, false, true

from services.tickets.models import Ticket
from shared.auth import Caller, CallerKind
from shared.repository import Repository
from shared.scoping import in_visible_dealers


def ticket_scope(caller: Caller) -> ColumnElement[bool]:
    """Owners see their own cases, dealers the cases routed to them (a dealer group's key, to
    any of its dealers), staff their region."""
    match caller.kind:
        case CallerKind.OWNER:
            return Ticket.owner_id == caller.owner_id if caller.owner_id else false()
        case CallerKind.DEALER:
            return in_visible_dealers(Ticket.dealer_id, caller)
        case CallerKind.STAFF:
            return Ticket.region == caller.region if caller.region else true()
    return false()


class BaseRepository(Repository):
    """What every tickets query class starts from (the shared add, get, page, upsert)."""
