"""What every part of a DMS batch shares: the dealer, the records found and made, the links
and events the batch owes, the owners whose facts it changed."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.errors import UnknownReference
from services.profile.models import Lead, Owner, Vehicle, utc_now
from services.profile.repository.imports import ImportRepository
from services.profile.schemas import ImportCounts
from services.profile.service.facts import LifecycleReplay, refresh_owners
from services.profile.vault import Vault
from shared.messaging.envelope import Envelope
from shared.messaging.outbox import record_envelopes

KINDS = ("owners", "vehicles", "orders", "service_visits", "consents")


def apply_changes(model: Any, values: dict[str, Any]) -> bool:
    """Sets the attributes that differ; returns whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(model, name) != value:
            setattr(model, name, value)
            changed = True
    return changed


class ImportState:
    """One batch's state and the steps every kind of record takes."""

    def __init__(
        self, session: AsyncSession, dealer_id: uuid.UUID, vault: Vault, *, recorded_by: str
    ) -> None:
        self.session = session
        self.vault = vault
        self.dealer_id = dealer_id
        self.recorded_by = recorded_by
        self.now = utc_now()
        self.repository = ImportRepository(session)
        self.lifecycle = LifecycleReplay(session, now=self.now)
        self.counts = {kind: ImportCounts() for kind in KINDS}
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

    async def finish(self) -> None:
        """The links and events the batch owes, then the facts of the owners it changed."""
        await self.session.flush()
        await self.repository.link_owners(list(self.owner_links.values()))
        await self.repository.link_vehicles(list(self.vehicle_links.values()))
        await record_envelopes(self.session, self.events)
        await refresh_owners(self.session, self.touched, now=self.now)
