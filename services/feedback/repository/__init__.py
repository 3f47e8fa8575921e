"""Every feedback query. Reads of owners' data take the caller and apply its scope; writes
flush only."""

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, cast, false, func, select, true, tuple_
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import SQLModel

from services.feedback.domain import InvitationStatus
from services.feedback.models import (
    DealerNetwork,
    ErasedOwner,
    Invitation,
    KnownDealer,
    KnownOwner,
    KnownVehicle,
    Post,
    Response,
    SurveyTemplate,
    Topic,
    TouchpointRecord,
    Trigger,
)
from shared.auth import Caller, CallerKind
from shared.database import once_a_transaction
from shared.pagination import PageParams
from shared.repository import Repository
from shared.scoping import in_visible_dealers

M = TypeVar("M", bound=SQLModel)
Owned = type[Invitation] | type[Response] | type[Post]


def owned_scope(model: Owned, caller: Caller) -> ColumnElement[bool]:
    """An owner sees their own; a dealer what is tied to it; regional staff their region's."""
    if caller.kind is CallerKind.OWNER:
        return model.owner_id == caller.owner_id if caller.owner_id else false()
    return dealer_scope(model.dealer_id, caller)


def dealer_scope(dealer_id: Any, caller: Caller) -> ColumnElement[bool]:
    """What is tied to a dealer: the dealer's (or its group's) own, the region's for regional
    staff, all for other staff and nothing for owners (figures about dealers are not theirs)."""
    match caller.kind:
        case CallerKind.OWNER:
            return false()
        case CallerKind.DEALER:
            return in_visible_dealers(dealer_id, caller)
    if caller.region:
        return dealer_id.in_(select(KnownDealer.id).where(KnownDealer.region == caller.region))
    return true()


class FeedbackRepository(Repository):
    async def owned_page(
        self, model: type[M], caller: Caller, page: PageParams, *filters: Any, order_by: Any
    ) -> tuple[list[M], int]:
        return await self.page(model, page, owned_scope(model, caller), *filters, order_by=order_by)

    async def owned(
        self, model: type[M], caller: Caller, key: uuid.UUID, *, for_update: bool = False
    ) -> M | None:
        statement = select(model).where(owned_scope(model, caller), model.id == key)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    # Surveys

    async def latest_survey(self, key: str) -> SurveyTemplate | None:
        return await self.session.scalar(
            select(SurveyTemplate)
            .where(SurveyTemplate.key == key)
            .order_by(SurveyTemplate.version.desc())
            .limit(1)
        )

    async def latest_survey_once(self, key: str) -> SurveyTemplate | None:
        """`latest_survey` for touchpoint handlers: once a transaction (a fetch of events)."""
        return await once_a_transaction(
            self.session, ("latest_survey", key), lambda: self.latest_survey(key)
        )

    async def survey_version(self, key: str, version: int) -> SurveyTemplate | None:
        return await self.session.scalar(
            select(SurveyTemplate).where(
                SurveyTemplate.key == key, SurveyTemplate.version == version
            )
        )

    async def latest_surveys(self, page: PageParams, kind: str | None):
        newest = (
            select(SurveyTemplate.key, func.max(SurveyTemplate.version).label("version"))
            .group_by(SurveyTemplate.key)
            .subquery()
        )
        latest = SurveyTemplate.id.in_(
            select(SurveyTemplate.id).join(
                newest,
                (SurveyTemplate.key == newest.c.key) & (SurveyTemplate.version == newest.c.version),
            )
        )
        filters = [SurveyTemplate.kind == kind] if kind else []
        return await self.page(SurveyTemplate, page, latest, *filters, order_by=SurveyTemplate.key)

    async def trigger_for(self, touchpoint: str) -> Trigger | None:
        return await self.session.scalar(select(Trigger).where(Trigger.touchpoint == touchpoint))

    async def trigger_once(self, touchpoint: str) -> Trigger | None:
        """`trigger_for` for touchpoint handlers: once a transaction (a fetch of events)."""
        return await once_a_transaction(
            self.session, ("trigger", touchpoint), lambda: self.trigger_for(touchpoint)
        )

    async def triggers(self) -> Sequence[Trigger]:
        return (await self.session.scalars(select(Trigger).order_by(Trigger.touchpoint))).all()

    # Invitations

    async def invitation_by_token_hash(self, token_hash: str) -> Invitation | None:
        return await self.session.scalar(
            select(Invitation).where(Invitation.token_hash == token_hash).with_for_update()
        )

    async def invitation_by_source(self, source: str) -> Invitation | None:
        return await self.session.scalar(select(Invitation).where(Invitation.source == source))

    async def last_surveyed_at(self, owner_id: uuid.UUID) -> datetime | None:
        """When the owner was last sent (or is due to be sent) a survey."""
        return await self.session.scalar(
            select(func.max(func.coalesce(Invitation.sent_at, Invitation.send_at))).where(
                Invitation.owner_id == owner_id,
                Invitation.status != InvitationStatus.SUPPRESSED,
            )
        )

    async def due_invitations(self, now: datetime, limit: int) -> Sequence[Invitation]:
        return (
            await self.session.scalars(
                select(Invitation)
                .where(Invitation.status == InvitationStatus.SCHEDULED, Invitation.send_at <= now)
                .order_by(Invitation.send_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def dealer_network_holds(self, dealer_id: uuid.UUID | None, address: str) -> bool:
        """Whether the address lies in one of the dealer's registered networks."""
        if dealer_id is None:
            return False
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return False
        found = await self.session.scalar(
            select(DealerNetwork.id)
            .where(
                DealerNetwork.dealer_id == dealer_id,
                DealerNetwork.cidr.op(">>=")(cast(address, INET)),
            )
            .limit(1)
        )
        return found is not None

    async def dealer_networks(self, dealer_id: uuid.UUID) -> Sequence[DealerNetwork]:
        return (
            await self.session.scalars(
                select(DealerNetwork)
                .where(DealerNetwork.dealer_id == dealer_id)
                .order_by(DealerNetwork.created_at, DealerNetwork.id)
            )
        ).all()

    async def touchpoint_by_source(self, source: str) -> TouchpointRecord | None:
        return await self.session.scalar(
            select(TouchpointRecord).where(TouchpointRecord.source == source)
        )

    async def is_erased(self, owner_id: uuid.UUID | None) -> bool:
        """Asked once a transaction for each owner (a service visit asks twice); erasure,
        which makes the answer yes, runs in a transaction of its own."""
        if owner_id is None:
            return False

        async def ask() -> bool:
            return await self.session.get(ErasedOwner, owner_id) is not None

        return await once_a_transaction(self.session, ("erased", owner_id), ask)

    # Topics and posts

    async def topics(self) -> Sequence[Topic]:
        return (await self.session.scalars(select(Topic).order_by(Topic.key))).all()

    async def posts_by_source(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Post]:
        if not keys:
            return {}
        rows = await self.session.scalars(
            select(Post)
            .where(tuple_(Post.source, Post.source_id).in_(list(keys)))
            .with_for_update()
        )
        return {(post.source, post.source_id): post for post in rows}

    # Projections

    async def known_owner(self, owner_id: uuid.UUID | None) -> KnownOwner | None:
        return await self.session.get(KnownOwner, owner_id) if owner_id else None

    async def known_vehicle(
        self, vehicle_id: uuid.UUID | None = None, *, vin: str | None = None
    ) -> KnownVehicle | None:
        if vehicle_id:
            return await self.session.get(KnownVehicle, vehicle_id)
        if vin:
            return await self.session.scalar(select(KnownVehicle).where(KnownVehicle.vin == vin))
        return None
