"""What goes with a new owner, vehicle, order step or service visit: its event (and the rows
that accompany it), built in one place for the one-record paths and the DMS import."""

import uuid

from services.profile.domain import VehicleRoleKind
from services.profile.models import (
    Order,
    OrderStatusEntry,
    Owner,
    ServiceVisit,
    Vehicle,
    VehicleRole,
    utc_now,
)
from shared.contracts.profile import (
    ComponentBatch,
    OrderStatusChanged,
    OwnerRegistered,
    ServiceVisitCompleted,
    VehicleRegistered,
)
from shared.messaging.envelope import Envelope


def owner_registered(owner: Owner, *, dealer_id: uuid.UUID | None) -> Envelope:
    return Envelope.wrap(
        OwnerRegistered(
            owner_id=owner.id,
            dealer_id=dealer_id,
            city=owner.city,
            preferred_language=owner.preferred_language,
        ),
        subject=str(owner.id),
        dealer_id=dealer_id,
        owner_id=owner.id,
    )


def ownership_roles(vehicle: Vehicle) -> list[VehicleRole]:
    """Who owned the car when matters later (whose complaint was it?): ownership has dates."""
    if not vehicle.owner_id:
        return []
    return [
        VehicleRole(
            vehicle_id=vehicle.id,
            owner_id=vehicle.owner_id,
            role=VehicleRoleKind.OWNER,
            effective_from=vehicle.delivery_date or utc_now().date(),
        )
    ]


def vehicle_registered(vehicle: Vehicle, *, dealer_id: uuid.UUID | None) -> Envelope:
    return Envelope.wrap(
        VehicleRegistered(
            vehicle_id=vehicle.id,
            vin=vehicle.vin,
            model=vehicle.model,
            trim=vehicle.trim,
            production_date=vehicle.production_date,
            delivery_date=vehicle.delivery_date,
            owner_id=vehicle.owner_id,
            selling_dealer_id=vehicle.selling_dealer_id,
            servicing_dealer_id=vehicle.servicing_dealer_id,
            components=[ComponentBatch(**component) for component in vehicle.components],
        ),
        subject=str(vehicle.id),
        dealer_id=dealer_id,
        owner_id=vehicle.owner_id,
    )


def status_entry(order: Order) -> OrderStatusEntry:
    """The order's timeline step for its current status."""
    return OrderStatusEntry(
        order_id=order.id, status=order.status, changed_at=order.status_changed_at
    )


def order_status_changed(order: Order, *, previous: str | None) -> Envelope:
    return Envelope.wrap(
        OrderStatusChanged(
            order_id=order.id,
            owner_id=order.owner_id,
            dealer_id=order.dealer_id,
            model=order.model,
            vin=order.vin,
            previous_status=previous,
            status=order.status,
            changed_at=order.status_changed_at,
        ),
        subject=str(order.id),
        dealer_id=order.dealer_id,
        owner_id=order.owner_id,
    )


def visit_completed(visit: ServiceVisit, vehicle: Vehicle) -> Envelope:
    return Envelope.wrap(
        ServiceVisitCompleted(
            visit_id=visit.id,
            dealer_id=visit.dealer_id,
            owner_id=visit.owner_id,
            vehicle_id=vehicle.id,
            vin=vehicle.vin,
            model=vehicle.model,
            visit_type=visit.visit_type,
            visit_date=visit.visit_date,
            mileage_km=visit.mileage_km,
            parts=[ComponentBatch(**part) for part in visit.parts],
            recall_codes=visit.recall_codes,
            cost=visit.cost,
        ),
        subject=str(visit.id),
        dealer_id=visit.dealer_id,
        owner_id=visit.owner_id,
    )
