"""Events the gateway consumes: it learns dealers from profile."""

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import service
from shared.contracts.profile import DealerRegistered
from shared.messaging.consumer import Subscription
from shared.messaging.envelope import Envelope


async def on_dealer_registered(
    session: AsyncSession, envelope: Envelope, event: DealerRegistered
) -> None:
    await service.record_dealer(session, event)


SUBSCRIPTIONS = [Subscription("dealer_registered", DealerRegistered, on_dealer_registered)]
