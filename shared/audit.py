"""Staff exports of an owner's data, for the one audit log of the platform, profile's.

Every other service records such an export as an event through its outbox, in the export's
own transaction (no export without its record); profile writes it to the owner's log. An
owner exporting their own data is no staff read: profile audits only staff, and so do these.
"""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Caller
from shared.contracts.privacy import OwnerDataExported
from shared.messaging.outbox import record_event


async def record_staff_export(
    session: AsyncSession,
    contract: type[OwnerDataExported],
    *,
    caller: Caller,
    owner_id: uuid.UUID,
    at: datetime,
) -> None:
    if not caller.is_staff:
        return
    exported = contract(
        owner_id=owner_id,
        service=contract.event_type.service,
        actor=caller.subject,
        actor_roles=sorted(caller.roles),
        exported_at=at,
    )
    await record_event(session, exported, subject=owner_id, owner_id=owner_id)
