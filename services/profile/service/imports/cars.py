"""A DMS batch's vehicles (with their component batches) and service visits (with parts)."""

import uuid

from services.profile.domain import DealerRelation
from services.profile.errors import UnknownReference
from services.profile.models import ServiceVisit, Vehicle
from services.profile.schemas import ServiceVisitImport, VehicleImport
from services.profile.service.announcements import (
    ownership_roles,
    vehicle_registered,
    visit_completed,
)
from services.profile.service.imports.base import ImportState, apply_changes


class VehicleRecords(ImportState):
    """The batch's vehicles, then its service visits."""

    async def vehicles(self, records: list[VehicleImport]) -> None:
        await self._learn_owners({record.owner_external_id for record in records})
        self.by_vin |= await self.repository.vehicles_by_vins({r.vin for r in records})
        for index, record in enumerate(records):
            owner_id = self._owner_id(
                f"body.vehicles.{index}.owner_external_id", record.owner_external_id
            )
            vehicle = self.by_vin.get(record.vin)
            if vehicle is None:
                self._register(record, owner_id)
            else:
                self._complete(vehicle, record, owner_id)

    def _register(self, record: VehicleImport, owner_id: uuid.UUID | None) -> None:
        vehicle = Vehicle(
            **record.model_dump(exclude={"owner_external_id", "sold_by_this_dealer", "components"}),
            components=[component.model_dump() for component in record.components],
            owner_id=owner_id,
            selling_dealer_id=self.dealer_id if record.sold_by_this_dealer else None,
            servicing_dealer_id=None if record.sold_by_this_dealer else self.dealer_id,
        )
        self.by_vin[vehicle.vin] = vehicle
        self.session.add_all([vehicle, *ownership_roles(vehicle)])
        self._link_vehicle(vehicle.id, DealerRelation.SOLD)
        if owner_id:
            self._link_owner(owner_id, DealerRelation.SOLD, None)
        self.events.append(vehicle_registered(vehicle, dealer_id=self.dealer_id))
        self._count("vehicles", "created")

    def _complete(self, vehicle: Vehicle, record: VehicleImport, owner_id: uuid.UUID | None):
        """Another dealer's record is completed, never overwritten (ownership transfer is
        an explicit operation, not a side effect of an import)."""
        relation = DealerRelation.SOLD if record.sold_by_this_dealer else DealerRelation.SERVICES
        self._link_vehicle(vehicle.id, relation)
        missing = {
            name: value
            for name, value in record.model_dump(
                include={"trim", "production_date", "delivery_date"}
            ).items()
            if getattr(vehicle, name) is None and value is not None
        }
        if vehicle.owner_id is None and owner_id is not None:
            missing["owner_id"] = owner_id
        if owner_id is not None and vehicle.owner_id == owner_id:
            self._link_owner(owner_id, relation, None)
        self._count("vehicles", "updated" if apply_changes(vehicle, missing) else "unchanged")

    async def service_visits(self, records: list[ServiceVisitImport]) -> None:
        await self._learn_owners({record.owner_external_id for record in records})
        existing = await self.repository.visits_by_external_ids(
            self.dealer_id, {record.external_id for record in records}
        )
        new = [record for record in records if record.external_id not in existing]
        self.by_vin |= await self.repository.vehicles_by_vins(
            {record.vin for record in new} - set(self.by_vin)
        )
        await self.lifecycle.load(
            owner_id for record in new if (owner_id := self._visit_owner(record)) is not None
        )
        for index, record in enumerate(records):
            visit = existing.get(record.external_id)
            if visit is not None:
                values = record.model_dump(
                    include={"visit_type", "visit_date", "mileage_km", "cost", "recall_codes"}
                )
                values["parts"] = [part.model_dump() for part in record.parts]
                self._count(
                    "service_visits", "updated" if apply_changes(visit, values) else "unchanged"
                )
                continue
            existing[record.external_id] = self._record_visit(index, record)
            self._count("service_visits", "created")

    def _visit_owner(self, record: ServiceVisitImport) -> uuid.UUID | None:
        """Who the visit is for: the owner named, else the vehicle's (None if neither)."""
        vehicle = self.by_vin.get(record.vin)
        named = self.owner_ids.get(record.owner_external_id or "")
        return named or (vehicle.owner_id if vehicle else None)

    def _record_visit(self, index: int, record: ServiceVisitImport) -> ServiceVisit:
        """A car can be serviced anywhere: any dealer may record a visit for a registered VIN,
        and becomes its servicing dealer."""
        vehicle = self.by_vin.get(record.vin)
        if vehicle is None:
            raise UnknownReference.for_field(
                f"body.service_visits.{index}.vin", f"vehicle {record.vin} is not registered"
            )
        named = self._owner_id(
            f"body.service_visits.{index}.owner_external_id", record.owner_external_id
        )
        owner_id = named or vehicle.owner_id
        visit = ServiceVisit(
            **record.model_dump(exclude={"vin", "parts", "owner_external_id"}),
            parts=[part.model_dump() for part in record.parts],
            dealer_id=self.dealer_id,
            vehicle_id=vehicle.id,
            owner_id=owner_id,
        )
        self.session.add(visit)
        vehicle.servicing_dealer_id = self.dealer_id
        self._link_vehicle(vehicle.id, DealerRelation.SERVICES)
        self.events.append(visit_completed(visit, vehicle))
        if owner_id:
            self._link_owner(owner_id, DealerRelation.SERVICES, None)
            self.touched.add(owner_id)
            self._announce(self.lifecycle.count(owner_id, service_visits=1))
        return visit
