"""Events the gateway consumes: it learns dealers and the dealer hierarchy from profile."""

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import service
from shared.contracts.profile import DealerGroupChanged, DealerGroupRegistered, DealerRegistered
from shared.messaging.consumer import Subscription
from shared.messaging.envelope import Envelope


async def on_dealer_registered(
    session: AsyncSession, envelope: Envelope, event: DealerRegistered
) -> None:
    await service.record_dealer(session, event)


async def on_dealer_group_registered(
    session: AsyncSession, envelope: Envelope, event: DealerGroupRegistered
) -> None:
    await service.record_dealer_group(session, event)


async def on_dealer_group_changed(
    session: AsyncSession, envelope: Envelope, event: DealerGroupChanged
) -> None:
    await service.record_dealer_group_change(session, event)


SUBSCRIPTIONS = [
    Subscription("dealer_registered", DealerRegistered, on_dealer_registered),
    Subscription("dealer_group_registered", DealerGroupRegistered, on_dealer_group_registered),
    Subscription("dealer_group_changed", DealerGroupChanged, on_dealer_group_changed),
]
