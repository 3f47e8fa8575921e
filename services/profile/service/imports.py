"""Dealer DMS import: an idempotent bulk upsert keyed by the dealer's own external ids.

A batch is applied in one transaction: any bad record rejects the whole batch and
nothing changes. Sending the same batch again changes nothing and publishes nothing.

It is set-based: each kind's existing records are read in one query, new rows go out in a
statement per table, the events in one, and the owners' facts, lifecycle and segments are
brought up to date once for the batch (service/facts.py). A thousand owners cost a few
dozen round trips, not tens of thousands.
"""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import (
    POINTS_FOR_REFERRAL,
    ContactSource,
    DealerRelation,
    OrderStatus,
    order_transition_problem,
)
from services.profile.errors import IllegalOrderTransition, UnknownReference
from services.profile.models import Lead, Order, Owner, ServiceVisit, Vehicle, utc_now
from services.profile.repository.facts import FactsRepository
from services.profile.repository.imports import ImportRepository
from services.profile.repository.loyalty import LoyaltyRepository
from services.profile.schemas import (
    DmsImport,
    ImportCounts,
    ImportResult,
    OrderImport,
    OwnerImport,
    ServiceVisitImport,
    VehicleImport,
)
from services.profile.schemas.core import CONTACT_FLAGS
from services.profile.service.announcements import (
    order_status_changed,
    owner_registered,
    ownership_roles,
    status_entry,
    vehicle_registered,
    visit_completed,
)
from services.profile.service.facts import LifecycleReplay, refresh_owners
from services.profile.service.loyalty import reward_referral
from services.profile.service.orders import require_dealer
from services.profile.service.personal import (
    PERSONAL_FIELDS,
    new_owners,
    personal_of,
    update_personal,
)
from services.profile.service.resolution import resolve_identities, vouch
from services.profile.vault import Vault
from shared.auth import Caller
from shared.errors import FieldError
from shared.messaging.envelope import Envelope
from shared.messaging.outbox import record_envelopes


async def import_dms_batch(
    session: AsyncSession, *, caller: Caller, vault: Vault, batch: DmsImport
) -> ImportResult:
    dealer_id = require_dealer(caller)
    # One import per dealer at a time, so two resends of a batch cannot both create.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(str(dealer_id)))))
    run = _ImportRun(session, dealer_id, vault)
    await run.owners(batch.owners)
    await run.vehicles(batch.vehicles)
    await run.orders(batch.orders)
    await run.service_visits(batch.service_visits)
    await run.finish()
    # Once linked and announced: a new record that is a known person merges into them.
    await resolve_identities(session, run.created, source=ContactSource.DMS, now=run.now)
    return ImportResult(**run.counts)


def _apply(model: Any, values: dict[str, Any]) -> bool:
    """Sets the attributes that differ; returns whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(model, name) != value:
            setattr(model, name, value)
            changed = True
    return changed


class _ImportRun:
    """One batch: what it found and made, the links and events it owes, the owners whose
    facts it changed."""

    def __init__(self, session: AsyncSession, dealer_id: uuid.UUID, vault: Vault) -> None:
        self.session = session
        self.vault = vault
        self.dealer_id = dealer_id
        self.now = utc_now()
        self.repository = ImportRepository(session)
        self.lifecycle = LifecycleReplay(session, now=self.now)
        self.counts = {
            kind: ImportCounts() for kind in ("owners", "vehicles", "orders", "service_visits")
        }
        self.owner_ids: dict[str, uuid.UUID] = {}  # the dealer's external id -> owner
        self.by_vin: dict[str, Vehicle] = {}
        self.owner_links: dict[tuple[uuid.UUID, uuid.UUID], dict] = {}
        self.vehicle_links: dict[tuple[uuid.UUID, uuid.UUID], dict] = {}
        self.events: list[Envelope] = []
        self.touched: set[uuid.UUID] = set()  # owners whose facts changed
        self.referred: dict[uuid.UUID, Lead] = {}  # buyer -> the lead a referral brought
        self.created: list[Owner] = []

    def _count(self, kind: str, outcome: str) -> None:
        counts = self.counts[kind]
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    def _link_owner(self, owner_id: uuid.UUID, relation: str, external_id: str | None) -> None:
        """The dealer's relation to the owner; the first one is kept."""
        self.owner_links.setdefault(
            (owner_id, self.dealer_id),
            {"owner_id": owner_id, "dealer_id": self.dealer_id, "relation": relation,
             "external_id": external_id},
        )  # fmt: skip

    def _link_vehicle(self, vehicle_id: uuid.UUID, relation: str) -> None:
        self.vehicle_links.setdefault(
            (vehicle_id, self.dealer_id),
            {"vehicle_id": vehicle_id, "dealer_id": self.dealer_id, "relation": relation},
        )

    def _announce(self, envelope: Envelope | None) -> None:
        if envelope is not None:
            self.events.append(envelope)

    # Owners

    async def owners(self, records: list[OwnerImport]) -> None:
        """Creates the owners not known by their external id, reseals the personal fields
        that changed; a record repeated in the batch updates the one before it."""
        existing = await self.repository.owners_by_external_ids(
            self.dealer_id, {record.external_id for record in records}
        )
        personal = (
            await personal_of(self.session, self.vault, list(existing.values())) if existing else {}
        )
        stored = {
            external_id: {**personal[owner.id], "city": owner.city,
                          "preferred_language": owner.preferred_language}
            for external_id, owner in existing.items()
        }  # fmt: skip
        wanted = dict(stored)
        vouched: dict[str, list[str]] = {}  # the contacts the dealer's system verified
        for record in records:
            values = record.model_dump(exclude={"external_id", *CONTACT_FLAGS})
            vouched[record.external_id] = record.verified_contacts()
            before = wanted.get(record.external_id)
            outcome = "created" if before is None else "updated" if values != before else None
            self._count("owners", outcome or "unchanged")
            wanted[record.external_id] = values
        new = [external_id for external_id in wanted if external_id not in stored]
        created = await new_owners(self.session, self.vault, [wanted[e] for e in new])
        await FactsRepository(self.session).ensure_many([owner.id for owner in created])
        self.created += created
        for external_id, owner in zip(new, created, strict=True):
            vouch(owner, vouched[external_id], source=ContactSource.DMS, at=self.now)
            self._link_owner(owner.id, DealerRelation.REGISTERED, external_id)
            self.events.append(owner_registered(owner, dealer_id=self.dealer_id))
        for external_id, owner in existing.items():
            if wanted[external_id] != stored[external_id]:
                await update_personal(self.session, self.vault, owner, wanted[external_id])
                _apply(owner, {k: v for k, v in wanted[external_id].items()
                               if k not in PERSONAL_FIELDS})  # fmt: skip
            vouch(owner, vouched[external_id], source=ContactSource.DMS, at=self.now)
        self.owner_ids |= {e: owner.id for e, owner in existing.items()}
        self.owner_ids |= {e: owner.id for e, owner in zip(new, created, strict=True)}

    async def _learn_owners(self, external_ids: set[str | None]) -> None:
        """The owners that records refer to and this batch did not bring, in one query."""
        unknown = {e for e in external_ids if e is not None and e not in self.owner_ids}
        found = await self.repository.owners_by_external_ids(self.dealer_id, unknown)
        self.owner_ids |= {external_id: owner.id for external_id, owner in found.items()}

    def _owner_id(self, field: str, external_id: str | None) -> uuid.UUID | None:
        if external_id is None:
            return None
        if (owner_id := self.owner_ids.get(external_id)) is None:
            raise UnknownReference.for_field(field, f"no owner with external id {external_id!r}")
        return owner_id

    # Vehicles

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
        self._count("vehicles", "updated" if _apply(vehicle, missing) else "unchanged")

    # Orders

    async def orders(self, records: list[OrderImport]) -> None:
        await self._learn_owners({record.owner_external_id for record in records})
        existing = await self.repository.orders_by_external_ids(
            self.dealer_id, {record.external_id for record in records}
        )
        buyers = {self.owner_ids[r.owner_external_id] for r in records
                  if r.owner_external_id in self.owner_ids}  # fmt: skip
        self.referred = await LoyaltyRepository(self.session).referred_leads_of(buyers)
        referrers = {lead.referrer_owner_id for lead in self.referred.values()}
        await self.lifecycle.load(buyers | {r for r in referrers if r is not None})
        for index, record in enumerate(records):
            owner_id = self._owner_id(
                f"body.orders.{index}.owner_external_id", record.owner_external_id
            )
            assert owner_id is not None
            order = existing.get(record.external_id)
            if order is None:
                existing[record.external_id] = await self._open(record, owner_id)
                self._count("orders", "created")
                continue
            changed = await self._move_on(index, order, record)
            changed = _apply(order, {"vin": record.vin or order.vin}) or changed
            self._count("orders", "updated" if changed else "unchanged")

    async def _open(self, record: OrderImport, owner_id: uuid.UUID) -> Order:
        order = Order(
            dealer_id=self.dealer_id,
            owner_id=owner_id,
            model=record.model,
            vin=record.vin,
            external_id=record.external_id,
            status=record.status,
            status_changed_at=record.status_changed_at,
        )
        self.session.add(order)
        self._link_owner(owner_id, DealerRelation.ORDERED, None)
        await self._record_status(order, previous=None)
        return order

    async def _move_on(self, index: int, order: Order, record: OrderImport) -> bool:
        if order.status == record.status:
            return False
        if problem := order_transition_problem(OrderStatus(order.status), record.status):
            field = f"body.orders.{index}.status"
            raise IllegalOrderTransition(
                f"{field}: {problem}", errors=[FieldError(field=field, message=problem)]
            )
        previous = order.status
        order.status = record.status
        order.status_changed_at = record.status_changed_at
        await self._record_status(order, previous=previous)
        return True

    async def _record_status(self, order: Order, *, previous: str | None) -> None:
        """The timeline step and its event; the buyer's lifecycle; a delivery pays the
        referral that brought the buyer."""
        self.session.add(status_entry(order))
        self.events.append(order_status_changed(order, previous=previous))
        self.touched.add(order.owner_id)
        self._announce(self.lifecycle.count(order.owner_id, **_order_counts(order, previous)))
        if order.status != OrderStatus.DELIVERED:
            return
        referrer = await reward_referral(
            self.session, self.referred.get(order.owner_id), points=POINTS_FOR_REFERRAL,
            now=self.now,
        )  # fmt: skip
        if referrer:
            self.touched.add(referrer)
            self._announce(self.lifecycle.count(referrer, converted_referrals=1))

    # Service visits

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
                self._count("service_visits", "updated" if _apply(visit, values) else "unchanged")
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

    async def finish(self) -> None:
        """The links and events the batch owes, then the facts of the owners it changed."""
        await self.session.flush()
        await self.repository.link_owners(list(self.owner_links.values()))
        await self.repository.link_vehicles(list(self.vehicle_links.values()))
        await record_envelopes(self.session, self.events)
        await refresh_owners(self.session, self.touched, now=self.now)


def _order_counts(order: Order, previous: str | None) -> dict[str, int]:
    """How an order's move changes its buyer's lifecycle counts."""

    def counts(status: str | None) -> tuple[int, int]:
        return (status not in (None, OrderStatus.CANCELLED), status == OrderStatus.DELIVERED)

    (orders_before, delivered_before), (orders_now, delivered_now) = (
        counts(previous),
        counts(order.status),
    )
    return {
        "orders": orders_now - orders_before,
        "delivered_orders": delivered_now - delivered_before,
    }
