"""Touchpoint triggers: which event sends which survey, after what delay, how often."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import event

from services.feedback.domain import Touchpoint
from services.feedback.service import touchpoints
from shared.contracts.journeys import SurveyRequested
from shared.contracts.profile import (
    LifecycleStageChanged,
    OrderStatusChanged,
    ServiceVisitCompleted,
    VehicleRegistered,
)
from shared.contracts.tickets import TicketResolved
from shared.database import Database
from tests.feedback.conftest import (
    FeedbackClient,
    events,
    handled,
    new_dealer,
    new_owner,
    scalar,
    token_of,
)
from tests.helpers import eventually

INVITED = "cem.feedback.invitation.created.v1"


def delivered(owner_id, dealer_id, *, status: str = "delivered") -> OrderStatusChanged:
    return OrderStatusChanged(
        order_id=uuid.uuid4(), owner_id=owner_id, dealer_id=dealer_id, model="ET7",
        vin="LRW3E7EK0NC100001", previous_status="ready_for_delivery", status=status,
        changed_at=datetime.now(UTC),
    )  # fmt: skip


async def owner_invitations(client_as, owner, admin) -> list[dict]:
    response = await admin.get("/invitations", params={"owner_id": str(owner.owner_id)})
    return response.json()["items"]


async def test_a_delivery_sends_the_delivery_survey_once(feedback_app, publisher, admin, client_as):
    owner, dealer = new_owner(), new_dealer()
    event = delivered(owner.owner_id, dealer.dealer_id)
    first = await publisher(event)
    again = await publisher(event)  # the same fact published twice (a new event id)
    await eventually(lambda: handled(feedback_app, "order_delivered", first, again))

    (invitation,) = await owner_invitations(client_as, owner, admin)
    assert invitation["touchpoint"] == Touchpoint.ORDER_DELIVERED
    assert invitation["status"] == "sent" and invitation["model"] == "ET7"
    assert invitation["lifecycle_stage"] == "delivery"
    (issued,) = await events(feedback_app, INVITED, about=invitation["id"])
    assert issued["data"]["survey_key"] == "delivery_nps"
    assert issued["data"]["link"].endswith(issued["data"]["token"])


async def test_other_order_statuses_send_nothing(feedback_app, publisher, admin, client_as):
    owner = new_owner()
    envelope = await publisher(delivered(owner.owner_id, uuid.uuid4(), status="in_transit"))
    await eventually(lambda: handled(feedback_app, "order_delivered", envelope))
    assert await owner_invitations(client_as, owner, admin) == []


async def test_an_owner_is_not_surveyed_twice_within_the_throttle(
    feedback_app, publisher, admin, client_as, clock
):
    owner, dealer = new_owner(), new_dealer()
    first = await publisher(delivered(owner.owner_id, dealer.dealer_id))
    await eventually(lambda: handled(feedback_app, "order_delivered", first))
    clock.advance(days=10)
    second = await publisher(delivered(owner.owner_id, dealer.dealer_id))  # a second car
    await eventually(lambda: handled(feedback_app, "order_delivered", second))

    statuses = sorted(i["status"] for i in await owner_invitations(client_as, owner, admin))
    assert statuses == ["sent", "suppressed"]
    clock.advance(days=25)
    third = await publisher(delivered(owner.owner_id, dealer.dealer_id))
    await eventually(lambda: handled(feedback_app, "order_delivered", third))
    statuses = sorted(i["status"] for i in await owner_invitations(client_as, owner, admin))
    assert statuses == ["sent", "sent", "suppressed"]


async def test_a_service_visit_survey_waits_for_its_delay(
    feedback_app, publisher, admin, client_as, clock, worker
):
    owner, dealer = new_owner(), new_dealer()
    vehicle = VehicleRegistered(vehicle_id=uuid.uuid4(), vin="LRW3E7EK0NC100002", model="ES8",
                                owner_id=owner.owner_id)  # fmt: skip
    visit = ServiceVisitCompleted(
        visit_id=uuid.uuid4(), dealer_id=dealer.dealer_id, owner_id=owner.owner_id,
        vehicle_id=vehicle.vehicle_id, vin=vehicle.vin, visit_type="maintenance",
        visit_date=date(2026, 3, 1), mileage_km=15000,
    )  # fmt: skip
    registered = await publisher(vehicle)
    await eventually(lambda: handled(feedback_app, "vehicle_registered", registered))
    envelope = await publisher(visit)
    await eventually(lambda: handled(feedback_app, "service_visit_completed", envelope))

    (invitation,) = await owner_invitations(client_as, owner, admin)
    assert invitation["status"] == "scheduled" and invitation["model"] == "ES8"
    await worker.run_once()
    assert (await admin.get(f"/invitations/{invitation['id']}")).json()["status"] == "scheduled"

    clock.advance(minutes=121)
    await worker.run_once()
    assert (await admin.get(f"/invitations/{invitation['id']}")).json()["status"] == "sent"
    await worker.run_once()
    assert len(await events(feedback_app, INVITED, about=invitation["id"])) == 1


async def test_a_visit_before_its_vehicle_is_known_is_counted_under_its_model(
    feedback_app, publisher, admin, client_as
):
    """Consumers run apart: the visit can be handled before the vehicle's own event."""
    owner, dealer = new_owner(), new_dealer()
    visit = ServiceVisitCompleted(
        visit_id=uuid.uuid4(), dealer_id=dealer.dealer_id, owner_id=owner.owner_id,
        vehicle_id=uuid.uuid4(), vin="LRW3E7EK0NC100010", model="ET5", visit_type="repair",
        visit_date=date(2026, 3, 1), mileage_km=9000,
    )  # fmt: skip
    envelope = await publisher(visit)
    await eventually(lambda: handled(feedback_app, "service_visit_completed", envelope))
    (invitation,) = await owner_invitations(client_as, owner, admin)
    assert invitation["model"] == "ET5"


async def test_a_resolved_case_gets_a_follow_up_survey(feedback_app, publisher, admin, client_as):
    owner = new_owner()
    ticket_id = uuid.uuid4()
    resolved = TicketResolved(
        ticket_id=ticket_id, number=7, kind="complaint", owner_id=owner.owner_id,
        channel="community", reopen_until=datetime.now(UTC), resolved_at=datetime.now(UTC),
    )  # fmt: skip
    envelope = await publisher(resolved)
    await eventually(lambda: handled(feedback_app, "ticket_resolved", envelope))
    (invitation,) = await owner_invitations(client_as, owner, admin)
    assert invitation["ticket_id"] == str(ticket_id)
    (issued,) = await events(feedback_app, INVITED, about=invitation["id"])
    assert issued["data"]["survey_key"] == "resolution_nps"
    assert issued["data"]["ticket_id"] == str(ticket_id)


async def test_a_disabled_trigger_sends_nothing(feedback_app, publisher, admin, client_as):
    triggers = (await admin.get("/triggers")).json()
    delivery = next(t for t in triggers if t["touchpoint"] == "order_delivered")
    body = {k: delivery[k] for k in ("touchpoint", "survey_key", "delay_minutes", "throttle_days")}
    disabled = await admin.put(f"/triggers/{delivery['id']}", json=body | {"enabled": False})
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    try:
        owner = new_owner()
        envelope = await publisher(delivered(owner.owner_id, uuid.uuid4()))
        await eventually(lambda: handled(feedback_app, "order_delivered", envelope))
        assert await owner_invitations(client_as, owner, admin) == []
    finally:
        await admin.put(f"/triggers/{delivery['id']}", json=body | {"enabled": True})


def survey_request(owner_id, *, touchpoint: str = "anniversary", **fields) -> SurveyRequested:
    return SurveyRequested(
        request_id=uuid.uuid4(), journey_key="first_anniversary", owner_id=owner_id,
        survey_key="delivery_nps", touchpoint=touchpoint, requested_at=datetime.now(UTC),
    ).model_copy(update=fields)  # fmt: skip


async def test_a_journey_request_sends_one_invitation_per_request(
    feedback_app, publisher, admin, client_as
):
    owner = new_owner()
    request = survey_request(owner.owner_id)
    first = await publisher(request)
    again = await publisher(request)  # the same request published twice (a new event id)
    await eventually(lambda: handled(feedback_app, "survey_requested", first, again))

    (invitation,) = await owner_invitations(client_as, owner, admin)
    assert invitation["status"] == "sent"
    assert invitation["touchpoint"] == "journey"  # a touchpoint feedback does not know
    (issued,) = await events(feedback_app, INVITED, about=invitation["id"])
    assert issued["data"]["survey_key"] == "delivery_nps"


async def test_a_journey_request_respects_the_throttle(feedback_app, publisher, admin, client_as):
    owner, dealer = new_owner(), new_dealer()
    delivered_first = await publisher(delivered(owner.owner_id, dealer.dealer_id))
    await eventually(lambda: handled(feedback_app, "order_delivered", delivered_first))
    # The delivery trigger's 30-day throttle holds for a journey asking on that touchpoint.
    asked = await publisher(survey_request(owner.owner_id, touchpoint="order_delivered"))
    await eventually(lambda: handled(feedback_app, "survey_requested", asked))
    statuses = sorted(i["status"] for i in await owner_invitations(client_as, owner, admin))
    assert statuses == ["sent", "suppressed"]


async def test_a_journey_request_for_a_missing_survey_is_recorded_not_sent(
    feedback_app, publisher, admin, client_as
):
    owner = new_owner()
    request = survey_request(owner.owner_id, survey_key="no_such_survey")
    envelope = await publisher(request)
    await eventually(lambda: handled(feedback_app, "survey_requested", envelope))
    assert await owner_invitations(client_as, owner, admin) == []
    outcome = await scalar(
        feedback_app,
        "SELECT outcome FROM touchpoints WHERE source = :s",
        s=f"journey:{request.request_id}",
    )
    assert outcome == "survey_missing"


async def test_answers_are_reported_under_the_owners_stage_from_profile(
    feedback_app, publisher, admin, client_as
):
    owner, dealer = new_owner(), new_dealer()
    staged = await publisher(
        LifecycleStageChanged(owner_id=owner.owner_id, previous_stage="usage_and_service",
                              stage="loyalty", changed_at=datetime.now(UTC))
    )  # fmt: skip
    await eventually(lambda: handled(feedback_app, "lifecycle_stage_changed", staged))
    envelope = await publisher(delivered(owner.owner_id, dealer.dealer_id))
    await eventually(lambda: handled(feedback_app, "order_delivered", envelope))
    (invitation,) = await owner_invitations(client_as, owner, admin)
    assert invitation["lifecycle_stage"] == "loyalty"


async def test_an_answer_learns_the_model_a_visit_arrived_before(
    feedback_app, publisher, admin, client_as, clock, worker
):
    """The visit's event may come before the vehicle's: the answer still counts by model."""
    owner, dealer = new_owner(), new_dealer()
    vehicle = VehicleRegistered(vehicle_id=uuid.uuid4(), vin="LRW3E7EK0NC100077", model="ET9",
                                owner_id=owner.owner_id)  # fmt: skip
    visit = ServiceVisitCompleted(
        visit_id=uuid.uuid4(), dealer_id=dealer.dealer_id, owner_id=owner.owner_id,
        vehicle_id=vehicle.vehicle_id, vin=vehicle.vin, visit_type="repair",
        visit_date=date(2026, 3, 1), mileage_km=9000,
    )  # fmt: skip
    envelope = await publisher(visit)
    await eventually(lambda: handled(feedback_app, "service_visit_completed", envelope))
    (invitation,) = await owner_invitations(client_as, owner, admin)
    assert not invitation["model"]
    registered = await publisher(vehicle)
    await eventually(lambda: handled(feedback_app, "vehicle_registered", registered))

    clock.advance(minutes=121)
    await worker.run_once()
    token = await token_of(feedback_app, invitation["id"])
    answered = await FeedbackClient(feedback_app, None).post(
        f"/public/invitations/{token}/response", json={"answers": {"satisfaction": 2}}
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["model"] == "ET9"
    # The invitation's count moved to the model's cell with the answer: none is left behind.
    cells = "SELECT count(*) FROM score_rollups WHERE dealer_id = :dealer AND grain = 'day'"
    model_cell = cells + " AND model = 'ET9' AND invited = 1 AND responses = 1"
    assert await scalar(feedback_app, cells, dealer=dealer.dealer_id) == 1
    assert await scalar(feedback_app, model_cell, dealer=dealer.dealer_id) == 1


async def test_the_touches_of_one_fetch_read_configuration_and_count_once(
    feedback_app, admin, client_as, clock
):
    # An engine of the test's own: the app's consumers read triggers and surveys too.
    database = Database(feedback_app.state.database.engine.url, pool_size=1)
    configuration_reads: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM triggers" in statement or "FROM survey_templates" in statement:
            configuration_reads.append(statement)

    owners, dealer = [new_owner() for _ in range(3)], new_dealer()
    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with database.transaction() as session:  # as the events of one fetch
            for owner in owners:
                touch = touchpoints.order_delivered(delivered(owner.owner_id, dealer.dealer_id))
                await touchpoints.touched(
                    session, touch, now=clock(), settings=feedback_app.state.settings
                )
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
        await database.dispose()

    assert len(configuration_reads) == 2  # the trigger once, its survey once
    for owner in owners:
        (invitation,) = await owner_invitations(client_as, owner, admin)
        assert invitation["status"] == "sent"
    # The three invitations, counted together in the dealer's cell of the day.
    invited = "SELECT invited FROM score_rollups WHERE dealer_id = :dealer AND grain = 'day'"
    assert await scalar(feedback_app, invited, dealer=dealer.dealer_id) == 3
