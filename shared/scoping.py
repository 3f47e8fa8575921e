"""The one SQL condition every service uses for "tied to a dealer this caller may see"."""

from typing import Any

from sqlalchemy import ColumnElement, false

from shared.auth import Caller


def in_visible_dealers(dealer_id: Any, caller: Caller) -> ColumnElement[bool]:
    """`dealer_id` is one of the caller's dealers: a dealer key's own, or any of its dealer
    group's. Nothing for a caller with none (owners, staff and services are scoped otherwise)."""
    dealers = caller.visible_dealer_ids
    if not dealers:
        return false()
    if len(dealers) == 1:
        (only,) = dealers
        return dealer_id == only
    return dealer_id.in_(sorted(dealers))
