"""Dealer DMS import: an idempotent bulk upsert keyed by the dealer's own external ids.

A batch is applied in one transaction: any bad record rejects the whole batch and
nothing changes. Sending the same batch again changes nothing and publishes nothing.

It is set-based: each kind's existing records are read in one query, new rows go out in a
statement per table, the events in one, and the owners' facts, lifecycle and segments are
brought up to date once for the batch (service/facts.py). A thousand owners cost a few
dozen round trips, not tens of thousands.
"""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import ContactSource
from services.profile.schemas import DmsImport, ImportResult
from services.profile.service.imports.cars import VehicleRecords
from services.profile.service.imports.people import OwnerRecords
from services.profile.service.imports.sales import OrderRecords
from services.profile.service.orders import require_dealer
from services.profile.service.resolution import resolve_identities
from services.profile.vault import Vault
from shared.auth import Caller


class _ImportRun(OwnerRecords, VehicleRecords, OrderRecords):
    """One batch, each kind of record in a module of its own."""


async def import_dms_batch(
    session: AsyncSession, *, caller: Caller, vault: Vault, batch: DmsImport
) -> ImportResult:
    dealer_id = require_dealer(caller)
    # One import per dealer at a time, so two resends of a batch cannot both create.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(str(dealer_id)))))
    run = _ImportRun(session, dealer_id, vault, recorded_by=f"{caller.kind}:{caller.subject}")
    await run.owners(batch.owners)
    await run.consents(batch.consents)
    await run.vehicles(batch.vehicles)
    await run.orders(batch.orders)
    await run.service_visits(batch.service_visits)
    await run.finish()
    # Once linked and announced: a new record that is a known person merges into them.
    await resolve_identities(session, run.created, source=ContactSource.DMS, now=run.now)
    return ImportResult(**run.counts)
