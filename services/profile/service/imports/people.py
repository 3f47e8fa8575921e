"""A DMS batch's owners (personal fields sealed per owner) and the consents they gave at the
dealership."""

from services.profile.domain import ContactSource, DealerRelation, consent_channel_problem
from services.profile.repository.facts import FactsRepository
from services.profile.schemas import ConsentImport, OwnerImport
from services.profile.schemas.core import CONTACT_FLAGS
from services.profile.service.announcements import owner_registered
from services.profile.service.consent_records import record_answers
from services.profile.service.imports.base import ImportState, apply_changes
from services.profile.service.personal import (
    PERSONAL_FIELDS,
    new_owners,
    personal_of,
    update_personal,
)
from services.profile.service.resolution import vouch
from shared.errors import InvalidInput


class OwnerRecords(ImportState):
    """The batch's owners, then their consents."""

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
                apply_changes(owner, {k: v for k, v in wanted[external_id].items()
                               if k not in PERSONAL_FIELDS})  # fmt: skip
            vouch(owner, vouched[external_id], source=ContactSource.DMS, at=self.now)
        self.owner_ids |= {e: owner.id for e, owner in existing.items()}
        self.owner_ids |= {e: owner.id for e, owner in zip(new, created, strict=True)}

    async def consents(self, records: list[ConsentImport]) -> None:
        """The answers owners gave at the dealership, recorded as the app's would be."""
        await self._learn_owners({record.owner_external_id for record in records})
        answers = []
        for index, record in enumerate(records):
            field = f"body.consents.{index}"
            owner_id = self._owner_id(f"{field}.owner_external_id", record.owner_external_id)
            if problem := consent_channel_problem(record.purpose, record.channel):
                raise InvalidInput.for_field(f"{field}.channel", problem)
            answers.append((owner_id, record))
        counts, events = await record_answers(
            self.session, answers, recorded_by=self.recorded_by, now=self.now
        )
        self.counts["consents"] = counts
        self.events += events
