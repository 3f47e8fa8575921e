"""Pure ticket rules: kinds and statuses, the state machine and workshop pauses.

Routing (`domain.routing`) and SLA arithmetic (`domain.sla`) build on these.
"""

from datetime import datetime
from enum import StrEnum


class TicketKind(StrEnum):
    COMPLAINT = "complaint"
    INQUIRY = "inquiry"
    ROADSIDE_ASSISTANCE = "roadside_assistance"
    SERVICE_BOOKING = "service_booking"
    TEST_DRIVE = "test_drive"
    LEAD_FOLLOW_UP = "lead_follow_up"
    PROACTIVE_SERVICE = "proactive_service"


# Kinds that are about a time the owner asked for.
KINDS_WITH_SLOT = frozenset({TicketKind.SERVICE_BOOKING, TicketKind.TEST_DRIVE})
# Kinds an owner may open from the app; the rest come from dealers, staff and events.
OWNER_KINDS = frozenset(
    {
        TicketKind.COMPLAINT,
        TicketKind.INQUIRY,
        TicketKind.ROADSIDE_ASSISTANCE,
        TicketKind.SERVICE_BOOKING,
        TicketKind.TEST_DRIVE,
    }
)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    def raised(self) -> "Priority":
        order = list(Priority)
        return order[min(order.index(self) + 1, len(order) - 1)]


class Channel(StrEnum):
    APP = "app"
    WEB = "web"
    PHONE = "phone"
    EMAIL = "email"
    DEALER = "dealer"
    COMMUNITY = "community"
    SURVEY = "survey"
    SYSTEM = "system"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class TicketStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_ON_OWNER = "waiting_on_owner"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset(
    {
        TicketStatus.NEW,
        TicketStatus.ACKNOWLEDGED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.WAITING_ON_OWNER,
    }
)

# What the owner reads in the app, in plain words.
STATUS_LABELS: dict[TicketStatus, dict[str, str]] = {
    TicketStatus.NEW: {"en": "Submitted", "zh": "已提交"},
    TicketStatus.ACKNOWLEDGED: {"en": "Received", "zh": "已受理"},
    TicketStatus.IN_PROGRESS: {"en": "Engineer following up", "zh": "工程师跟进中"},
    TicketStatus.WAITING_ON_OWNER: {"en": "Waiting for your reply", "zh": "等待您的回复"},
    TicketStatus.RESOLVED: {"en": "Resolved", "zh": "已解决"},
    TicketStatus.CLOSED: {"en": "Closed", "zh": "已关闭"},
}

# The work that moves a case on; a reopen (resolved → in_progress) is checked apart.
_FORWARD: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset({TicketStatus.ACKNOWLEDGED}),
    TicketStatus.ACKNOWLEDGED: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_OWNER, TicketStatus.RESOLVED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.WAITING_ON_OWNER, TicketStatus.RESOLVED}),
    TicketStatus.WAITING_ON_OWNER: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}
REOPEN = (TicketStatus.RESOLVED, TicketStatus.IN_PROGRESS)
# An owner may only confirm (close) or reopen a resolved case of theirs.
_OWNER_MOVES = frozenset({(TicketStatus.RESOLVED, TicketStatus.CLOSED), REOPEN})


def legal_transitions(current: TicketStatus) -> frozenset[TicketStatus]:
    extra = {REOPEN[1]} if current is REOPEN[0] else set()
    return _FORWARD[current] | extra


def transition_problem(
    current: TicketStatus,
    target: TicketStatus,
    *,
    by_owner: bool,
    now: datetime,
    reopen_until: datetime | None,
) -> str | None:
    """Why the case cannot move from `current` to `target`, or None when it can."""
    if target not in legal_transitions(current):
        allowed = ", ".join(sorted(legal_transitions(current))) or "none (the case is closed)"
        return f"a {current} case cannot move to {target}; allowed: {allowed}"
    if by_owner and (current, target) not in _OWNER_MOVES:
        return "an owner can only close or reopen a resolved case"
    if (current, target) == REOPEN and reopen_until is not None and now > reopen_until:
        return f"the reopen period ended at {reopen_until.isoformat()}; open a new case instead"
    return None


class PauseReason(StrEnum):
    """Why the SLA clocks stop: the workshop is waiting on someone else."""

    WAITING_ON_OWNER = "waiting_on_owner"
    PARTS_BACK_ORDER = "parts_back_order"
    WARRANTY_APPROVAL = "warranty_approval"
    GOODWILL_APPROVAL = "goodwill_approval"
    VEHICLE_IN_WORKSHOP = "vehicle_in_workshop"


def pause_problem(status: TicketStatus, current: PauseReason | None) -> str | None:
    """A workshop pause is set on a case being worked on (waiting on the owner is a status)."""
    if status not in (TicketStatus.ACKNOWLEDGED, TicketStatus.IN_PROGRESS):
        return f"a {status} case cannot be paused"
    if current is not None:
        return f"the case is already paused ({current})"
    return None


def pause_for_status(status: TicketStatus, current: PauseReason | None) -> PauseReason | None:
    """The pause a status change leaves: waiting on the owner pauses; any move clears it."""
    if status is TicketStatus.WAITING_ON_OWNER:
        return PauseReason.WAITING_ON_OWNER
    if status not in OPEN_STATUSES or current is PauseReason.WAITING_ON_OWNER:
        return None
    return current
