import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.errors import DealerNotFound, DuplicateDealerCode
from services.profile.models import Dealer
from services.profile.repository import ProfileRepository
from services.profile.schemas import DealerCreate
from shared.auth import Caller, StaffRole
from shared.contracts.profile import DealerRegistered
from shared.messaging.outbox import record_event
from shared.pagination import PageParams


async def create_dealer(session: AsyncSession, *, caller: Caller, data: DealerCreate) -> Dealer:
    caller.require_staff(StaffRole.ADMIN)
    repository = ProfileRepository(session)
    if await repository.dealer_code_taken(data.code):
        raise DuplicateDealerCode(f"Dealer code {data.code!r} is already registered")
    dealer = await repository.add(Dealer(**data.model_dump()))
    await record_event(
        session,
        DealerRegistered(
            dealer_id=dealer.id,
            code=dealer.code,
            name=dealer.name,
            city=dealer.city,
            region=dealer.region,
        ),
        subject=dealer.id,
        dealer_id=dealer.id,
    )
    return dealer


async def list_dealers(
    session: AsyncSession, *, caller: Caller, page: PageParams, region: str | None
) -> tuple[list[Dealer], int]:
    return await ProfileRepository(session).list_dealers(caller, page, region=region)


async def get_dealer(session: AsyncSession, *, caller: Caller, dealer_id: uuid.UUID) -> Dealer:
    dealer = await ProfileRepository(session).get_dealer(caller, dealer_id)
    if dealer is None:
        raise DealerNotFound(f"Dealer {dealer_id} not found")
    return dealer
