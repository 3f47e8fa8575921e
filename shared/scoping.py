"""Who may see which dealer's rows, said twice: by the application, in every query
(`in_visible_dealers`), and by PostgreSQL's row-level security, per transaction (`RowScope`).

The second is the backstop: a query that forgets the first still returns no other dealer's
rows, because the application role neither owns the tables nor bypasses their policies
(docs/operations.md, "Row-level security").
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, true

from shared.auth import Caller, CallerKind

# Off only in tests (`CEM_APPLICATION_SCOPING=off`, refused elsewhere by the settings): the
# isolation matrix then shows that row-level security alone keeps dealers apart.
_application_scoping = True


def set_application_scoping(enabled: bool) -> None:
    global _application_scoping
    _application_scoping = enabled


def in_visible_dealers(dealer_id: Any, caller: Caller) -> ColumnElement[bool]:
    """`dealer_id` is one of the caller's dealers: a dealer key's own, or any of its dealer
    group's. Nothing for a caller with none (owners, staff and services are scoped otherwise)."""
    if not _application_scoping:
        return true()
    dealers = caller.visible_dealer_ids
    if not dealers:
        return false()
    if len(dealers) == 1:
        (only,) = dealers
        return dealer_id == only
    return dealer_id.in_(sorted(dealers))


@dataclass(frozen=True)
class RowScope:
    """The dealers whose rows a transaction may read or write, as the policies on every table
    with a dealer column enforce it: every dealer's (`dealers` None) or only those listed.
    Rows with no dealer belong to no dealer's scope: only the every-dealer scope has them."""

    dealers: frozenset[uuid.UUID] | None = None

    @classmethod
    def for_caller(cls, caller: Caller | None) -> "RowScope":
        """A dealer-side caller has its dealers; owners, staff and services every dealer's,
        as the policies guard the dealer dimension only (owners and regions stay the
        application's to scope). No caller at all, no dealer's rows."""
        if caller is None:
            return NO_DEALER
        if caller.kind is CallerKind.DEALER:
            return cls(caller.visible_dealer_ids)
        return EVERY_DEALER

    def settings(self) -> dict[str, str]:
        """The values of `cem.scope` and `cem.dealer_ids` the policies read."""
        if self.dealers is None:
            return {"scope": "all", "dealer_ids": ""}
        return {"scope": "dealers", "dealer_ids": "{" + ",".join(map(str, self.dealers)) + "}"}

    def statement(self) -> str:
        """The settings as one statement with no parameters, for a simple query that sends
        it with BEGIN (a UUID's text is safe to quote), for the transaction's life."""
        values = self.settings()
        return (
            f"SELECT set_config('cem.scope', '{values['scope']}', true), "
            f"set_config('cem.dealer_ids', '{values['dealer_ids']}', true)"
        )


EVERY_DEALER = RowScope()
NO_DEALER = RowScope(frozenset())
