"""Personal data in telematics: location kept only with consent and only for the retention,
and an owner's erasure (locations, destinations, apps and the link to them) on request."""

from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from services.telematics.config import SERVICE
from services.telematics.repository import TelematicsRepository
from services.telematics.signal_store import erase_locations
from services.telematics.signal_store import expire_locations as expire_signal_locations
from shared.contracts.profile import OwnerErasureRequested
from shared.contracts.telematics import TelematicsErasureCompleted
from shared.messaging.outbox import record_event


async def expire_locations(session: AsyncSession, before: datetime) -> int:
    return await expire_signal_locations(session, before)


def _start_of(day) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


async def erase_owner(session: AsyncSession, event: OwnerErasureRequested, *, now: datetime):
    """Erases what ties the owner to places and habits, keeps the anonymous vehicle facts
    (mileage, faults, part failures) that fleet quality needs, and confirms."""
    repository = TelematicsRepository(session)
    erased = 0
    for period in await repository.ownership_periods(event.owner_id):
        end = _start_of(period.ended_on) if period.ended_on else None
        erased += await erase_locations(
            session, period.vehicle_id, _start_of(period.started_on), end
        )
        await session.delete(period)
    erased += await repository.erase_owner(event.owner_id)
    await record_event(
        session,
        TelematicsErasureCompleted(
            request_id=event.request_id,
            owner_id=event.owner_id,
            service=SERVICE,
            records_erased=erased,
            completed_at=now,
        ),
        subject=event.request_id,
        owner_id=event.owner_id,
    )
