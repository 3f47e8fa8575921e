"""The feedback service in-process, on its own migrated database and real NATS, with a
clock that tests move (so delays and expiry need no waiting).

The standard surveys and triggers are created once for the session; each test uses owners
of its own, so per-owner throttling never crosses tests.
"""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.feedback.config import MIGRATIONS_DIR, FeedbackSettings
from services.feedback.main import create_app
from services.feedback.timers import InvitationWorker
from shared.auth import Caller, CallerKind, StaffRole
from shared.messaging.envelope import Envelope
from shared.migrations import upgrade
from tests.helpers import FakeClock, Publish, ServiceClient, event_publisher, inbox_holds

ADMIN = Caller(kind=CallerKind.STAFF, subject="admin@test", roles=frozenset({StaffRole.ADMIN}))
MARKETING = Caller(
    kind=CallerKind.STAFF, subject="marketing@test", roles=frozenset({StaffRole.MARKETING})
)
CONNECTOR = Caller(kind=CallerKind.SERVICE, subject="community-connector")
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def localized(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


NPS_QUESTION = {
    "id": "recommend",
    "type": "nps",
    "text": localized("How likely are you to recommend us?", "您向朋友推荐我们的可能性有多大？"),
}
REASON_QUESTION = {
    "id": "reason",
    "type": "text",
    "required": False,
    "text": localized("What is the main reason for your score?", "您打分的主要原因是什么？"),
}
CSAT_QUESTION = {
    "id": "satisfaction",
    "type": "csat",
    "text": localized("How satisfied are you with the visit?", "您对本次服务满意吗？"),
}


def nps_survey(key: str) -> dict:
    return {
        "key": key,
        "kind": "nps",
        "title": localized("Your delivery", "您的交付体验"),
        "questions": [NPS_QUESTION, REASON_QUESTION],
    }


STANDARD_SURVEYS = [
    nps_survey("delivery_nps"),
    {**nps_survey("resolution_nps"), "title": localized("Your case", "您的问题处理")},
    {
        "key": "service_csat",
        "kind": "csat",
        "title": localized("Your service visit", "您的保养维修体验"),
        "questions": [CSAT_QUESTION, REASON_QUESTION],
    },
]
STANDARD_TRIGGERS = [
    {"touchpoint": "order_delivered", "survey_key": "delivery_nps", "throttle_days": 30},
    {"touchpoint": "service_visit_completed", "survey_key": "service_csat",
     "delay_minutes": 120, "throttle_days": 30},
    {"touchpoint": "ticket_resolved", "survey_key": "resolution_nps", "throttle_days": 0},
    {"touchpoint": "call_centre_contact", "survey_key": "delivery_nps", "throttle_days": 0},
]  # fmt: skip


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
async def feedback_app(infrastructure, clock) -> AsyncIterator:
    settings = FeedbackSettings(
        **infrastructure.settings().model_dump(),
        relay_interval_seconds=0.2,
        invitation_poll_seconds=3600,  # tests issue due invitations themselves, with `worker`
    )
    await asyncio.to_thread(upgrade, "feedback", MIGRATIONS_DIR, settings)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        admin = FeedbackClient(app, ADMIN)
        for survey in STANDARD_SURVEYS:
            response = await admin.post("/surveys", json=survey)
            assert response.status_code in (201, 409), response.text
        for trigger in STANDARD_TRIGGERS:
            response = await admin.post("/triggers", json=trigger)
            assert response.status_code in (201, 409), response.text
        yield app


@pytest.fixture
def worker(feedback_app, clock) -> InvitationWorker:
    return InvitationWorker(
        feedback_app.state.database, clock=clock, settings=feedback_app.state.settings
    )


class FeedbackClient(ServiceClient):
    """Calls feedback as a given caller, the way the gateway would (or as nobody)."""

    service = "feedback"


@pytest.fixture
def client_as(feedback_app):
    def make(caller: Caller | None) -> FeedbackClient:
        return FeedbackClient(feedback_app, caller)

    return make


@pytest.fixture
def admin(client_as) -> FeedbackClient:
    return client_as(ADMIN)


@pytest.fixture
def anonymous(client_as) -> FeedbackClient:
    return client_as(None)


def new_dealer() -> Caller:
    dealer_id = uuid.uuid4()
    return Caller(kind=CallerKind.DEALER, subject=str(dealer_id), dealer_id=dealer_id)


def new_owner() -> Caller:
    owner_id = uuid.uuid4()
    return Caller(kind=CallerKind.OWNER, subject=str(owner_id), owner_id=owner_id)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def invite(admin: FeedbackClient, owner: Caller, **fields) -> dict:
    body = {"survey_key": "delivery_nps", "owner_id": str(owner.owner_id),
            "touchpoint": "call_centre_contact"}  # fmt: skip
    response = await admin.post("/invitations", json=body | fields)
    assert response.status_code == 201, response.text
    return response.json()


async def answer(
    app,
    admin: FeedbackClient,
    score: int,
    *,
    comment: str | None = None,
    headers: dict | None = None,
    survey_key: str = "delivery_nps",
    **invitation: str,
) -> dict:
    """Invites a new owner (with the invitation's fields) and answers through the link."""
    owner = new_owner()
    sent = await invite(admin, owner, survey_key=survey_key, **invitation)
    token = await token_of(app, sent["id"])
    question = "satisfaction" if survey_key == "service_csat" else "recommend"
    body = {"answers": {question: score}} | ({"comment": comment} if comment else {})
    # Each owner answers from a device and address of their own unless told otherwise.
    own = {"x-forwarded-for": f"10.{owner.owner_id.int % 250}.{owner.owner_id.int % 249}.7",
           "x-device-id": str(owner.owner_id)}  # fmt: skip
    response = await FeedbackClient(app, None).post(
        f"/public/invitations/{token}/response", json=body, headers=own | (headers or {})
    )
    assert response.status_code == 201, response.text
    return response.json()


async def events(app, subject: str, *, about: str | None = None, since: int = 0) -> list[dict]:
    """Envelopes of one event type (about one record, if given), oldest first."""
    sql = "SELECT envelope FROM outbox WHERE seq > :since AND subject = :subject"
    params = {"since": since, "subject": subject}
    if about:
        sql += " AND envelope->>'subject' = :about"
        params["about"] = about
    async with app.state.database.transaction() as session:
        return list(await session.scalars(text(sql + " ORDER BY seq"), params))


async def token_of(app, invitation_id: str) -> str:
    """The token journeys would put in the message: it exists only in the issuing event."""
    (issued,) = await events(app, "cem.feedback.invitation.created.v1", about=invitation_id)
    return issued["data"]["token"]


async def last_seq(app) -> int:
    async with app.state.database.transaction() as session:
        return await session.scalar(text("SELECT coalesce(max(seq), 0) FROM outbox"))


async def scalar(app, sql: str, **params):
    async with app.state.database.transaction() as session:
        return await session.scalar(text(sql), params)


@pytest.fixture(scope="session")
async def publisher(infrastructure, feedback_app) -> AsyncIterator[Publish]:
    """Publishes other services' events to real NATS, as their outbox relays would."""
    streams = ("profile", "tickets", "journeys")
    async with event_publisher(infrastructure.nats_url, "feedback", streams) as publish:
        yield publish


async def handled(app, consumer: str, *envelopes: Envelope) -> bool:
    """Whether the consumer's inbox holds every one of these events (so it has applied them)."""
    return await inbox_holds(app, f"feedback_{consumer}", *envelopes)
