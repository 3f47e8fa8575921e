"""The owner 360 view: one owner whole, from profile's own records and its projections of the
other services' events (never a call to them). Each part is scoped by the caller: a dealer
sees its own orders, visits, leads, cases and scores of the owner; identity is masked for
staff roles that do not need it, and every staff read is audited."""

import uuid
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain import VehicleRoleKind
from services.profile.models import Owner, OwnerFacts, Vehicle, VehicleRole
from services.profile.repository import ProfileRepository
from services.profile.repository.engagement import EngagementRepository
from services.profile.repository.facts import FactsRepository
from services.profile.schemas import ServiceVisitRead
from services.profile.schemas.engagement import ConsentRead, LeadRead, VehicleRoleRead
from services.profile.schemas.owner360 import (
    BehaviourRead,
    Identity,
    LifecycleRead,
    Owner360,
    ScoreRead,
    TicketRead,
    TimelineItem,
    VehicleWithRoles,
)
from services.profile.service.orders import read_orders
from services.profile.service.owners import visible_owner
from services.profile.service.personal import audit, personal_of, sees_identity, shown_to
from services.profile.service.segments import memberships_of
from services.profile.vault import Vault
from shared.auth import Caller, CallerKind
from shared.pagination import PageParams

EVERYTHING = PageParams(limit=500)
TIMELINE_LENGTH = 200


async def owner_360(
    session: AsyncSession, *, caller: Caller, vault: Vault, owner_id: uuid.UUID, now: datetime
) -> Owner360:
    owner = await visible_owner(session, caller, owner_id)
    facts = await FactsRepository(session).get(owner.id) or OwnerFacts(owner_id=owner.id)
    parts = await _parts(session, caller, owner)
    await audit(session, caller, [owner.id], action="read_360", at=now)
    return Owner360(
        identity=await identity(session, vault, caller, owner),
        lifecycle=LifecycleRead(
            stage=facts.lifecycle_stage,
            history=[
                {"stage": e.stage, "because": e.because, "changed_at": e.changed_at}
                for e in await FactsRepository(session).lifecycle_history(owner.id)
            ],
        ),
        tags=facts.tags,
        points=facts.points_balance,
        service_due_date=facts.service_due_date,
        household_id=await EngagementRepository(session).household_of(owner.id),
        timeline=await timeline(session, caller, owner, parts),
        **parts,
    )


async def identity(session: AsyncSession, vault: Vault, caller: Caller, owner: Owner) -> Identity:
    personal = (await personal_of(session, vault, [owner]))[owner.id]
    return Identity(
        owner_id=owner.id,
        **shown_to(caller, personal),
        city=owner.city,
        preferred_language=owner.preferred_language,
        masked=not sees_identity(caller),
        merged_into=owner.merged_into,
        erased=owner.erased_at is not None,
    )


def _dealers_shown(caller: Caller) -> frozenset[uuid.UUID] | None:
    """A dealer (or dealer group) sees the scores and cases of its own dealers; None: all."""
    return caller.visible_dealer_ids if caller.kind is CallerKind.DEALER else None


async def _parts(session: AsyncSession, caller: Caller, owner: Owner) -> dict:
    core = ProfileRepository(session)
    engagement = EngagementRepository(session)
    facts = FactsRepository(session)
    vehicles, _ = await core.list_vehicles(caller, EVERYTHING, model=None, owner_id=owner.id)
    orders, _ = await core.list_orders(caller, EVERYTHING, status=None, owner_id=owner.id)
    visits, _ = await core.list_service_visits(
        caller, EVERYTHING, vehicle_id=None, owner_id=owner.id
    )
    dealers = _dealers_shown(caller)
    behaviour = await facts.latest_behaviour(owner.id)
    return {
        "vehicles": [
            VehicleWithRoles.model_validate(
                {
                    **vehicle.model_dump(),
                    "roles": [
                        VehicleRoleRead.model_validate(role)
                        for role in await engagement.roles_of_vehicle(vehicle.id)
                    ],
                }
            )
            for vehicle in vehicles
        ],
        "orders": await read_orders(session, list(orders)),
        "service_history": [ServiceVisitRead.model_validate(v) for v in visits],
        "leads": [
            LeadRead.model_validate(lead) for lead in await engagement.leads_of(owner.id, caller)
        ],
        "consents": [ConsentRead.model_validate(c) for c in await engagement.consents_of(owner.id)],
        "segments": await memberships_of(session, owner.id),
        "nps_csat_history": [
            ScoreRead.model_validate(score)
            for score in await facts.scores(owner.id)
            if dealers is None or score.dealer_id in dealers
        ],
        "open_tickets": [
            TicketRead.model_validate(ticket)
            for ticket in await facts.tickets(owner.id, open_only=True)
            if dealers is None or ticket.dealer_id in dealers
        ],
        "latest_behaviour": BehaviourRead.model_validate(behaviour) if behaviour else None,
    }


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


DRIVER_ROLES = (VehicleRoleKind.PRIMARY_DRIVER, VehicleRoleKind.SECONDARY_DRIVER)


def _driver_changes(roles: list[tuple[VehicleRole, Vehicle]]) -> list[TimelineItem]:
    """A driver role's start and, once it ended, its end; ids and vehicles, never names."""
    changes = [
        (change, day, role, vehicle)
        for role, vehicle in roles
        for change, day in (("added", role.effective_from), ("ended", role.effective_to))
        if day is not None
    ]
    return [
        TimelineItem(
            at=_at(day),
            kind=f"driver.{change}",
            summary=f"{role.role.replace('_', ' ')} {change}: {vehicle.model} {vehicle.vin}",
            source="profile",
        )
        for change, day, role, vehicle in changes
    ]


async def timeline(
    session: AsyncSession, caller: Caller, owner: Owner, parts: dict
) -> list[TimelineItem]:
    """Everything that happened to the owner across services, newest first."""
    engagement = EngagementRepository(session)
    facts = FactsRepository(session)
    events, _ = await engagement.events_of(owner.id, PageParams(limit=TIMELINE_LENGTH))
    items = [
        TimelineItem(
            at=e.occurred_at, kind=f"interaction.{e.type}", summary=e.type, source=e.source
        )
        for e in events
    ]
    items += [
        TimelineItem(
            at=step.changed_at,
            kind=f"order.{step.status}",
            summary=f"order {order.model} {step.status}",
            source="profile",
        )
        for order in parts["orders"]
        for step in order.timeline
    ]
    items += [
        TimelineItem(
            at=_at(visit.visit_date),
            kind=f"service_visit.{visit.visit_type}",
            summary=f"{visit.visit_type} at {visit.mileage_km} km",
            source="dms",
        )
        for visit in parts["service_history"]
    ]
    items += [
        TimelineItem(at=lead.created_at, kind=f"lead.{lead.kind}", summary=lead.model or lead.kind,
                     source=lead.channel)
        for lead in parts["leads"]
    ]  # fmt: skip
    items += [
        TimelineItem(
            at=entry.changed_at,
            kind="consent.granted" if entry.granted else "consent.withdrawn",
            summary=f"{entry.purpose} by {entry.channel} (notice {entry.notice_version})",
            source=entry.source,
        )
        for entry in await engagement.consent_history(owner.id)
    ]
    items += [
        TimelineItem(at=s.submitted_at, kind=f"feedback.{s.kind}",
                     summary=f"{s.kind.upper()} {s.score} at {s.touchpoint}", source="feedback")
        for s in parts["nps_csat_history"]
    ]  # fmt: skip
    dealers = _dealers_shown(caller)
    items += [
        TimelineItem(at=t.created_at, kind=f"ticket.{t.kind}",
                     summary=f"case #{t.number} ({t.kind}) {t.status}", source="tickets")
        for t in await facts.tickets(owner.id, open_only=False)
        if dealers is None or t.dealer_id in dealers
    ]  # fmt: skip
    items += _driver_changes(await engagement.roles_about(caller, owner.id, DRIVER_ROLES))
    items += [
        TimelineItem(at=p.created_at, kind=f"points.{p.cause}",
                     summary=f"{p.points:+d} points ({p.note or p.cause})", source="profile")
        for p in await facts.points_entries(owner.id)
    ]  # fmt: skip
    items += [
        TimelineItem(at=e.changed_at, kind=f"lifecycle.{e.stage}", summary=e.because,
                     source="profile")
        for e in await facts.lifecycle_history(owner.id)
    ]  # fmt: skip
    items += [
        TimelineItem(at=m.entered_at, kind="segment.entered", summary=m.segment_name,
                     source="profile")
        for m in parts["segments"]
    ]  # fmt: skip
    return sorted(items, key=lambda item: item.at, reverse=True)[:TIMELINE_LENGTH]
