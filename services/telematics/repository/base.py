"""What every group of telematics queries shares: the caller's scope over vehicles and the
generic writes (flush only)."""

from typing import Any

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import SQLModel

from services.telematics.models import Vehicle
from shared.auth import Caller, CallerKind
from shared.repository import Repository
from shared.scoping import in_visible_dealers


def vehicle_scope(caller: Caller) -> ColumnElement[bool]:
    """Owners see the vehicles they own now, dealers those they sold or service, staff all."""
    match caller.kind:
        case CallerKind.OWNER:
            return Vehicle.owner_id == caller.owner_id if caller.owner_id else false()
        case CallerKind.DEALER:
            return or_(
                in_visible_dealers(Vehicle.servicing_dealer_id, caller),
                in_visible_dealers(Vehicle.selling_dealer_id, caller),
            )
        case CallerKind.STAFF:
            return true()
    return false()


def owned_by(model, caller: Caller) -> ColumnElement[bool]:
    """An owner sees the trips and charging of their own time with a vehicle, not a previous
    owner's; dealers and staff see the vehicle's."""
    return model.owner_id == caller.owner_id if caller.kind is CallerKind.OWNER else true()


class Queries(Repository):
    async def insert_new(self, model: type[SQLModel], values: dict[str, Any], *keys: str) -> bool:
        """Inserts unless a row with the same `keys` exists; whether it inserted."""
        statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
        inserted = await self.session.execute(statement.returning(model.__table__.c.id))
        return inserted.first() is not None
