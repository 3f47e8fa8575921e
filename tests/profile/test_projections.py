"""Profile's projections of other services' events, published to real NATS: scores, cases,
driving behaviour, service due, journey points and tags; each re-evaluates the owner's
segments and lifecycle as it lands (event-driven), and each is applied once."""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from services.profile.service import projections
from shared.contracts.feedback import ResponseSubmitted
from shared.contracts.journeys import PointsAwarded, TagChanged
from shared.contracts.telematics import DrivingBehaviourUpdated, ServiceDuePredicted
from shared.contracts.tickets import TicketCreated, TicketResolved
from shared.database import Database
from shared.messaging.envelope import Envelope
from tests.helpers import eventually
from tests.profile.conftest import (
    create_owner,
    events_after,
    handled,
    last_seq,
    owner_caller,
    peers_replaced,
    scalar,
)


def now() -> datetime:
    return datetime.now(UTC)


def response(owner_id: str, score: int, *, kind: str = "nps", band: str = "promoter"):
    return ResponseSubmitted(
        response_id=uuid.uuid4(), invitation_id=uuid.uuid4(), survey_key="after_service",
        survey_version=1, kind=kind, score=score, band=band, owner_id=uuid.UUID(owner_id),
        touchpoint="service_visit", channel="app", submitted_at=now(),
    )  # fmt: skip


def complaint(owner_id: str, ticket_id: uuid.UUID | None = None) -> TicketCreated:
    return TicketCreated(
        ticket_id=ticket_id or uuid.uuid4(), number=4711, kind="complaint", priority="high",
        status="new", channel="app", owner_id=uuid.UUID(owner_id), queue="first_line",
        created_at=now(),
    )  # fmt: skip


async def segments_of(client, owner_id: str) -> dict[str, list[str]]:
    memberships = (await client.get(f"/owners/{owner_id}/segments")).json()
    return {m["segment_key"]: m["reasons"] for m in memberships}


async def test_a_survey_answer_feeds_scores_points_once_and_at_risk(
    client_as, dealer_a, profile_app, publisher
):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    before = await last_seq(profile_app)
    answer = response(owner_id, 3, band="detractor")
    envelope = await publisher(answer)
    # The same answer again, as a redelivery and as a second envelope: one effect.
    await publisher(answer, envelope=envelope)
    second = await publisher(answer)
    await eventually(lambda: handled(profile_app, "response_submitted", envelope, second))

    view = (await owner.get(f"/owners/{owner_id}/360")).json()
    assert [(s["kind"], s["score"]) for s in view["nps_csat_history"]] == [("nps", 3)]
    assert view["points"] == 20
    assert "detractor = True" in (await segments_of(owner, owner_id))["at_risk"]
    changes = await events_after(profile_app, before, "cem.profile.segment.membership_changed.v1")
    assert [(c["segment_key"], c["entered"]) for c in changes if c["owner_id"] == owner_id] == [
        ("at_risk", True)
    ]


class NoPeers:
    """Stands in for the other services: the 360 view must never ask them."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the 360 view asked the other services ({name})")


async def test_the_360_view_is_answered_from_profiles_own_projections(
    client_as, dealer_a, profile_app, publisher
):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    csat = response(owner_id, 5, kind="csat", band="satisfied").model_copy(
        update={"submitted_at": now() - timedelta(days=2)}
    )
    envelopes = [
        await publisher(csat),
        await publisher(response(owner_id, 3, band="detractor")),
        await publisher(complaint(owner_id)),
    ]
    await eventually(lambda: handled(profile_app, "response_submitted", *envelopes[:2]))
    await eventually(lambda: handled(profile_app, "ticket_created", envelopes[2]))

    with peers_replaced(profile_app, NoPeers()):
        response_360 = await owner.get(f"/owners/{owner_id}/360")
    assert response_360.status_code == 200, response_360.text
    view = response_360.json()
    assert sorted((s["kind"], s["score"]) for s in view["nps_csat_history"]) == [
        ("csat", 5), ("nps", 3)
    ]  # fmt: skip
    assert [t["number"] for t in view["open_tickets"]] == [4711]
    at_risk = next(s for s in view["segments"] if s["segment_key"] == "at_risk")
    assert set(at_risk["reasons"]) == {"detractor = True", "open_complaints >= 1"}
    kinds = [item["kind"] for item in view["timeline"]]
    assert {"feedback.nps", "feedback.csat", "ticket.complaint", "segment.entered"} <= set(kinds)
    assert kinds.index("feedback.nps") < kinds.index("feedback.csat")  # newest first


async def test_a_dealer_sees_its_own_scores_and_cases_in_the_360_view(
    client_as, admin, dealer_a, dealer_b, profile_app, publisher
):
    """A score given and a case opened at another dealer stay out of the dealer's view of
    its owner (timeline too); staff see both."""
    owner_id = await create_owner(client_as(dealer_a))
    at_b = {"dealer_id": dealer_b.dealer_id}
    envelopes = [
        await publisher(response(owner_id, 9).model_copy(update=at_b)),
        await publisher(complaint(owner_id).model_copy(update=at_b)),
    ]
    await eventually(lambda: handled(profile_app, "response_submitted", envelopes[0]))
    await eventually(lambda: handled(profile_app, "ticket_created", envelopes[1]))

    seen_by_a = (await client_as(dealer_a).get(f"/owners/{owner_id}/360")).json()
    assert (seen_by_a["nps_csat_history"], seen_by_a["open_tickets"]) == ([], [])
    assert not {"feedback.nps", "ticket.complaint"} & {i["kind"] for i in seen_by_a["timeline"]}
    seen_by_staff = (await admin.get(f"/owners/{owner_id}/360")).json()
    assert len(seen_by_staff["nps_csat_history"]) == len(seen_by_staff["open_tickets"]) == 1


async def test_an_open_complaint_puts_an_owner_at_risk_until_it_is_resolved(
    client_as, dealer_a, profile_app, publisher
):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    created = complaint(owner_id)
    first = await publisher(created)
    await eventually(lambda: handled(profile_app, "ticket_created", first))
    view = (await owner.get(f"/owners/{owner_id}/360")).json()
    assert [(t["number"], t["status"]) for t in view["open_tickets"]] == [(4711, "new")]
    assert (await segments_of(owner, owner_id))["at_risk"] == ["open_complaints >= 1"]

    resolved = TicketResolved(
        ticket_id=created.ticket_id, number=4711, kind="complaint", owner_id=created.owner_id,
        channel="app", reopen_until=now() + timedelta(days=7), resolved_at=now(),
    )  # fmt: skip
    envelope = await publisher(resolved)
    await eventually(lambda: handled(profile_app, "ticket_resolved", envelope))
    assert (await owner.get(f"/owners/{owner_id}/360")).json()["open_tickets"] == []
    assert "at_risk" not in await segments_of(owner, owner_id)


async def test_driving_behaviour_makes_tech_enthusiasts_and_family_users(
    client_as, dealer_a, profile_app, publisher
):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    behaviour = DrivingBehaviourUpdated(
        vehicle_id=uuid.uuid4(), vin="LRW3E7EK0NC000001", owner_id=uuid.UUID(owner_id), trips=40,
        distance_km=900.0, harsh_accelerations_per_100km=0.5, harsh_brakings_per_100km=0.7,
        overspeed_share=0.01, night_share=0.1, assisted_driving_share=0.62,
        new_apps=["karaoke"], destination_categories={"school": 12, "supermarket": 6, "office": 2},
        computed_at=now(),
    )  # fmt: skip
    due = ServiceDuePredicted(
        vehicle_id=behaviour.vehicle_id, vin=behaviour.vin, owner_id=behaviour.owner_id,
        due_date=date.today() + timedelta(days=12), reason="mileage", mileage_km=19_000,
        km_per_day=40, predicted_at=now(),
    )  # fmt: skip
    envelopes = [await publisher(behaviour), await publisher(due)]
    await eventually(lambda: handled(profile_app, "behaviour_updated", envelopes[0]))
    await eventually(lambda: handled(profile_app, "service_due_predicted", envelopes[1]))

    segments = await segments_of(owner, owner_id)
    assert segments["tech_enthusiast"] == ["assisted_driving_share >= 0.4"]
    assert segments["family_user"] == ["family_destination_share >= 0.3"]
    assert segments["service_due"] == ["service_due_in_days <= 30"]
    view = (await owner.get(f"/owners/{owner_id}/360")).json()
    assert view["latest_behaviour"]["assisted_driving_share"] == 0.62
    assert view["latest_behaviour"]["harsh_events_per_100km"] == 1.2
    assert view["service_due_date"] == due.due_date.isoformat()

    # A late, older window changes nothing.
    older = behaviour.model_copy(
        update={"assisted_driving_share": 0.0, "computed_at": now() - timedelta(days=3)}
    )
    late = await publisher(older)
    await eventually(lambda: handled(profile_app, "behaviour_updated", late))
    assert "tech_enthusiast" in await segments_of(owner, owner_id)


async def test_the_owners_a_fetch_of_events_touches_are_refreshed_once_together(
    client_as, dealer_a, profile_app
):
    owner_ids = [await create_owner(client_as(dealer_a)) for _ in range(3)]
    # An engine of the test's own: the app's consumers lock facts rows too.
    database = Database(profile_app.state.database.engine.url, pool_size=1)
    facts_locks: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM owner_facts" in statement and "FOR UPDATE" in statement:
            facts_locks.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with database.transaction() as session:  # as the events of one fetch
            for number, owner_id in enumerate(owner_ids):
                update = DrivingBehaviourUpdated(
                    vehicle_id=uuid.uuid4(), vin=f"LRW3E7EK0NC00010{number}",
                    owner_id=uuid.UUID(owner_id), trips=12, distance_km=300.0,
                    harsh_accelerations_per_100km=0.0, harsh_brakings_per_100km=0.0,
                    overspeed_share=0.0, night_share=0.0, assisted_driving_share=0.7,
                    new_apps=[], destination_categories={}, computed_at=now(),
                )  # fmt: skip
                await projections.behaviour_updated(session, update, now())
            assert facts_locks == []  # nothing refreshed yet: it waits for the commit
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
        await database.dispose()

    assert len(facts_locks) == 1  # the three owners, in one go
    for owner_id in owner_ids:
        owner = client_as(owner_caller(owner_id))
        assert "tech_enthusiast" in await segments_of(owner, owner_id)


async def test_journey_steps_award_points_once_and_change_tags(
    client_as, dealer_a, profile_app, publisher
):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    award = PointsAwarded(
        request_id=uuid.uuid4(), journey_key="anniversary", owner_id=uuid.UUID(owner_id),
        points=150, reason="first anniversary", awarded_at=now(),
    )  # fmt: skip
    tag = TagChanged(
        request_id=uuid.uuid4(), journey_key="ota_beta", owner_id=uuid.UUID(owner_id),
        tag="beta_group", added=True, changed_at=now(),
    )  # fmt: skip
    envelopes = [await publisher(award), await publisher(award), await publisher(tag)]
    await eventually(lambda: handled(profile_app, "points_awarded", *envelopes[:2]))
    await eventually(lambda: handled(profile_app, "tag_changed", envelopes[2]))
    points = (await owner.get(f"/owners/{owner_id}/points")).json()
    assert points["balance"] == 150
    assert [(e["cause"], e["points"]) for e in points["entries"]] == [("journey", 150)]
    assert (await owner.get(f"/owners/{owner_id}/360")).json()["tags"] == ["beta_group"]

    removed = await publisher(tag.model_copy(update={"request_id": uuid.uuid4(), "added": False}))
    await eventually(lambda: handled(profile_app, "tag_changed", removed))
    assert (await owner.get(f"/owners/{owner_id}/360")).json()["tags"] == []


async def test_an_event_for_an_unknown_owner_is_dead_lettered_not_retried_forever(
    profile_app, publisher
):
    award = PointsAwarded(
        request_id=uuid.uuid4(), journey_key="x", owner_id=uuid.uuid4(), points=5, reason="r",
        awarded_at=now(),
    )  # fmt: skip
    envelope: Envelope = await publisher(award)

    async def dead_lettered() -> bool:
        found = await scalar(
            profile_app,
            "SELECT count(*) FROM dead_letters WHERE event_id = :id",
            id=str(envelope.id),
        )
        return found == 1

    await eventually(dead_lettered)


async def test_a_super_user_is_recognised_once(client_as, dealer_a, profile_app, publisher):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    at = now().isoformat()
    events = [
        {"type": "community_post_created", "occurred_at": at, "properties": {"post_id": f"p{i}"}}
        for i in range(3)
    ] + [
        {"type": "community_post_engaged", "occurred_at": at,
         "properties": {"post_id": "p0", "engagement": "like"}}
        for _ in range(10)
    ]  # fmt: skip
    assert (await owner.post("/events", json={"events": events})).status_code == 202
    assert "super_user" not in await segments_of(owner, owner_id)
    envelope = await publisher(response(owner_id, 10))
    await eventually(lambda: handled(profile_app, "response_submitted", envelope))

    assert "latest_nps >= 9" in (await segments_of(owner, owner_id))["super_user"]
    points = (await owner.get(f"/owners/{owner_id}/points")).json()
    causes = sorted({e["cause"] for e in points["entries"]})
    assert causes == ["community_engagement", "super_user", "survey_answer"]
    # 3 posts x 10, 10 engagements x 2, one survey 20, recognition 500.
    assert points["balance"] == 30 + 20 + 20 + 500
    assert "super_user" in (await owner.get(f"/owners/{owner_id}/360")).json()["tags"]
