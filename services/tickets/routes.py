"""Tickets' HTTP API, mounted at /v1/tickets. Thin: dependencies in, one use case, out."""

import uuid
from datetime import datetime

from fastapi import APIRouter, Response, status

from services.tickets.deps import Now, Settings
from services.tickets.domain import Priority, TicketKind, TicketStatus
from services.tickets.schemas import (
    AssignmentCreate,
    CommentCreate,
    CommentPage,
    CommentRead,
    OwnerTicketPage,
    OwnerTicketRead,
    PauseCreate,
    TicketCreate,
    TicketPage,
    TicketRead,
    TimelineEntryRead,
    TransitionCreate,
    WatcherCreate,
)
from services.tickets.schemas.configuration import (
    DealerSettingsPut,
    DealerSettingsRead,
    QueueCreate,
    QueuePage,
    QueueRead,
    QueueUpdate,
    RoutingRuleCreate,
    RoutingRuleRead,
    SlaPolicyCreate,
    SlaPolicyRead,
    TimeZone,
)
from services.tickets.schemas.privacy import OwnerExport
from services.tickets.schemas.reports import ReportGroup, ReportPeriod, SlaReport
from services.tickets.service import (
    assignment,
    cases,
    configuration,
    privacy,
    reports,
    workflow,
)
from shared.dependencies import CurrentCaller, Paging, Session

router = APIRouter()

AnyTicket = TicketRead | OwnerTicketRead


def _page(page_type, items, total, paging):
    return page_type(items=items, total=total, limit=paging.limit, offset=paging.offset)


# Cases


@router.post("/tickets", status_code=status.HTTP_201_CREATED, response_model=AnyTicket)
async def open_ticket(
    body: TicketCreate, session: Session, caller: CurrentCaller, now: Now, response: Response
):
    """Opens a case. With a `source` already used, returns that case with 200 instead."""
    ticket, created = await cases.open_ticket(session, caller=caller, data=body, now=now)
    if not created:
        response.status_code = status.HTTP_200_OK
    return ticket


@router.get("/tickets", response_model=TicketPage | OwnerTicketPage)
async def list_tickets(
    session: Session,
    caller: CurrentCaller,
    paging: Paging,
    status: TicketStatus | None = None,
    kind: TicketKind | None = None,
    priority: Priority | None = None,
    queue: str | None = None,
    dealer_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    assignee: str | None = None,
    mine: bool = False,
):
    """Cases the caller may see; `mine=true`: those assigned to the caller or waiting in a
    queue the caller is a member of (an agent's work list)."""
    filters = {
        "status": status,
        "kind": kind,
        "priority": priority,
        "queue": queue,
        "dealer_id": dealer_id,
        "owner_id": owner_id,
        "assignee": assignee,
    }
    items, total = await cases.list_tickets(
        session, caller=caller, page=paging, filters=filters, mine=mine
    )
    page_type = TicketPage if all(isinstance(i, TicketRead) for i in items) else OwnerTicketPage
    return _page(page_type, items, total, paging)


@router.get("/tickets/{ticket_id}", response_model=AnyTicket)
async def get_ticket(ticket_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await cases.get_ticket(session, caller=caller, ticket_id=ticket_id)


@router.get("/tickets/{ticket_id}/timeline", response_model=list[TimelineEntryRead])
async def get_timeline(ticket_id: uuid.UUID, session: Session, caller: CurrentCaller):
    """The case's history; an owner sees the status steps in plain words (en and zh)."""
    return await cases.get_timeline(session, caller=caller, ticket_id=ticket_id)


@router.post("/tickets/{ticket_id}/transitions", response_model=AnyTicket)
async def transition(
    ticket_id: uuid.UUID,
    body: TransitionCreate,
    session: Session,
    caller: CurrentCaller,
    now: Now,
    settings: Settings,
):
    return await workflow.transition(
        session,
        caller=caller,
        ticket_id=ticket_id,
        data=body,
        now=now,
        reopen_window=settings.reopen_window,
    )


@router.post("/tickets/{ticket_id}/pause", response_model=TicketRead)
async def pause(
    ticket_id: uuid.UUID, body: PauseCreate, session: Session, caller: CurrentCaller, now: Now
):
    """Stops the SLA clocks for a workshop reason (parts, approval, vehicle in workshop)."""
    return await workflow.pause(session, caller=caller, ticket_id=ticket_id, data=body, now=now)


@router.post("/tickets/{ticket_id}/resume", response_model=TicketRead)
async def resume(ticket_id: uuid.UUID, session: Session, caller: CurrentCaller, now: Now):
    return await workflow.resume(session, caller=caller, ticket_id=ticket_id, now=now)


@router.post("/tickets/{ticket_id}/assignment", response_model=TicketRead)
async def reassign(
    ticket_id: uuid.UUID, body: AssignmentCreate, session: Session, caller: CurrentCaller, now: Now
):
    """Moves the case to another queue (CX agents) and/or agent; recorded in its history."""
    return await assignment.reassign(
        session, caller=caller, ticket_id=ticket_id, data=body, now=now
    )


@router.post("/tickets/{ticket_id}/watchers", response_model=TicketRead)
async def add_watcher(
    ticket_id: uuid.UUID, body: WatcherCreate, session: Session, caller: CurrentCaller, now: Now
):
    return await workflow.add_watcher(
        session, caller=caller, ticket_id=ticket_id, data=body, now=now
    )


@router.post(
    "/tickets/{ticket_id}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentRead
)
async def add_comment(
    ticket_id: uuid.UUID,
    body: CommentCreate,
    session: Session,
    caller: CurrentCaller,
    now: Now,
    settings: Settings,
):
    """A public comment (the owner sees it) or an internal note (the owner never does)."""
    return await workflow.add_comment(
        session,
        caller=caller,
        ticket_id=ticket_id,
        data=body,
        now=now,
        reopen_window=settings.reopen_window,
    )


@router.get("/tickets/{ticket_id}/comments", response_model=CommentPage)
async def list_comments(
    ticket_id: uuid.UUID, session: Session, caller: CurrentCaller, paging: Paging
):
    items, total = await workflow.list_comments(
        session, caller=caller, ticket_id=ticket_id, page=paging
    )
    return _page(CommentPage, items, total, paging)


# Configuration


@router.post("/queues", status_code=status.HTTP_201_CREATED, response_model=QueueRead)
async def create_queue(body: QueueCreate, session: Session, caller: CurrentCaller):
    return await configuration.create_queue(session, caller=caller, data=body)


@router.get("/queues", response_model=QueuePage)
async def list_queues(session: Session, caller: CurrentCaller, paging: Paging):
    items, total = await configuration.list_queues(session, caller=caller, page=paging)
    return _page(QueuePage, items, total, paging)


@router.put("/queues/{key}", response_model=QueueRead)
async def update_queue(key: str, body: QueueUpdate, session: Session, caller: CurrentCaller):
    return await configuration.update_queue(session, caller=caller, key=key, data=body)


@router.post("/routing-rules", status_code=status.HTTP_201_CREATED, response_model=RoutingRuleRead)
async def create_routing_rule(
    body: RoutingRuleCreate, session: Session, caller: CurrentCaller, now: Now
):
    return await configuration.create_routing_rule(session, caller=caller, data=body, now=now)


@router.get("/routing-rules", response_model=list[RoutingRuleRead])
async def list_routing_rules(session: Session, caller: CurrentCaller):
    """Every rule in the order they are tried."""
    return await configuration.list_routing_rules(session, caller=caller)


@router.put("/routing-rules/{rule_id}", response_model=RoutingRuleRead)
async def replace_routing_rule(
    rule_id: uuid.UUID, body: RoutingRuleCreate, session: Session, caller: CurrentCaller, now: Now
):
    return await configuration.replace_routing_rule(
        session, caller=caller, rule_id=rule_id, data=body, now=now
    )


@router.delete("/routing-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_routing_rule(rule_id: uuid.UUID, session: Session, caller: CurrentCaller):
    await configuration.delete_routing_rule(session, caller=caller, rule_id=rule_id)


@router.post("/sla-policies", status_code=status.HTTP_201_CREATED, response_model=SlaPolicyRead)
async def create_sla_policy(
    body: SlaPolicyCreate, session: Session, caller: CurrentCaller, now: Now
):
    return await configuration.create_sla_policy(session, caller=caller, data=body, now=now)


@router.get("/sla-policies", response_model=list[SlaPolicyRead])
async def list_sla_policies(session: Session, caller: CurrentCaller):
    return await configuration.list_sla_policies(session, caller=caller)


@router.put("/sla-policies/{policy_id}", response_model=SlaPolicyRead)
async def replace_sla_policy(
    policy_id: uuid.UUID, body: SlaPolicyCreate, session: Session, caller: CurrentCaller, now: Now
):
    return await configuration.replace_sla_policy(
        session, caller=caller, policy_id=policy_id, data=body, now=now
    )


@router.delete("/sla-policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_sla_policy(policy_id: uuid.UUID, session: Session, caller: CurrentCaller):
    await configuration.delete_sla_policy(session, caller=caller, policy_id=policy_id)


@router.put("/dealers/{dealer_id}/settings", response_model=DealerSettingsRead)
async def put_dealer_settings(
    dealer_id: uuid.UUID, body: DealerSettingsPut, session: Session, caller: CurrentCaller, now: Now
):
    """A dealer's business hours (in its time zone), holidays and escalation manager."""
    return await configuration.put_dealer_settings(
        session, caller=caller, dealer_id=dealer_id, data=body, now=now
    )


@router.get("/dealers/{dealer_id}/settings", response_model=DealerSettingsRead)
async def get_dealer_settings(dealer_id: uuid.UUID, session: Session, caller: CurrentCaller):
    return await configuration.get_dealer_settings(session, caller=caller, dealer_id=dealer_id)


# Reports


@router.get("/reports/sla", response_model=SlaReport)
async def sla_report(
    session: Session,
    caller: CurrentCaller,
    now: Now,
    group_by: ReportGroup = ReportGroup.QUEUE,
    period: ReportPeriod = ReportPeriod.WEEK,
    time_zone: TimeZone = "UTC",
    since: datetime | None = None,
    until: datetime | None = None,
    dealer_id: uuid.UUID | None = None,
    queue: str | None = None,
    kind: TicketKind | None = None,
):
    """SLA compliance, backlog, time to resolve, reopen rate and pause time of the cases
    opened in [since, until) (default: the last 90 days), by group and period."""
    return await reports.sla_report(
        session,
        caller=caller,
        group_by=group_by,
        period=period,
        time_zone=time_zone,
        since=since,
        until=until,
        filters={"dealer_id": dealer_id, "queue": queue, "kind": kind},
        now=now,
    )


# Privacy


@router.get("/privacy/owners/{owner_id}/export", response_model=OwnerExport)
async def export_owner(owner_id: uuid.UUID, session: Session, caller: CurrentCaller, now: Now):
    """Everything tickets holds about an owner: for the owner themselves, or CX staff."""
    return await privacy.export_owner(session, caller=caller, owner_id=owner_id, now=now)
