"""Segments through the API: validation on save, preview, recomputation, event-driven entry
with reasons, the durable timer, and who may see what."""

import uuid
from datetime import UTC, datetime, timedelta

from services.profile.timers import SegmentTimer
from shared.auth import Caller, CallerKind, StaffRole
from tests.profile.conftest import (
    create_dealer,
    create_owner,
    events_after,
    last_seq,
    owner_caller,
    scalar,
)

MARKETING = Caller(kind=CallerKind.STAFF, subject="mk@test", roles=frozenset({StaffRole.MARKETING}))
STANDARD = {"tech_enthusiast", "family_user", "super_user", "at_risk", "service_due"}


def unique_city() -> str:
    return f"City-{uuid.uuid4().hex[:8]}"


def in_city(city: str) -> dict:
    return {"kind": "compare", "attribute": "city", "op": "eq", "value": city}


async def test_the_scenario_segments_ship_with_the_service(client_as):
    listed = (await client_as(MARKETING).get("/segments")).json()
    assert STANDARD <= {segment["key"] for segment in listed["items"]}
    super_user = (await client_as(MARKETING).get("/segments/super_user")).json()
    assert "latest_nps >= 9" in super_user["summary"]


async def test_a_bad_condition_is_refused_naming_the_node(client_as):
    marketing = client_as(MARKETING)
    body = {
        "key": f"s_{uuid.uuid4().hex[:8]}",
        "name": "Broken",
        "condition": {"kind": "and", "conditions": [
            {"kind": "compare", "attribute": "latest_nps", "op": "ge", "value": 9},
            {"kind": "compare", "attribute": "shoe_size", "op": "gt", "value": 40},
        ]},
    }  # fmt: skip
    response = await marketing.post("/segments", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body.condition.conditions.1.attribute"
    malformed = await marketing.post(
        "/segments",
        json=body | {"condition": {"kind": "compare", "attribute": "latest_nps", "op": "about"}},
    )
    assert malformed.status_code == 422
    fields = {error["field"] for error in malformed.json()["errors"]}
    assert {"body.condition.op", "body.condition.value"} <= fields
    assert (await marketing.get(f"/segments/{body['key']}")).status_code == 404
    deep = {"kind": "compare", "attribute": "latest_nps", "op": "ge", "value": 9}
    for _ in range(100):
        deep = {"kind": "not", "condition": deep}
    too_deep = await marketing.post("/segments/preview", json={"condition": deep})
    assert too_deep.status_code == 422
    assert too_deep.json()["errors"][0]["field"] == "body.condition"


async def test_preview_counts_and_samples_before_saving(client_as, dealer_a):
    city = unique_city()
    dealer = client_as(dealer_a)
    owners = [await create_owner(dealer, city=city) for _ in range(3)]
    response = await client_as(MARKETING).post(
        "/segments/preview", json={"condition": in_city(city), "sample_size": 2}
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["count"] == 3
    assert len(preview["sample"]) == 2
    assert {s["owner_id"] for s in preview["sample"]} <= set(owners)
    assert preview["sample"][0]["reasons"] == [f"city = {city!r}"]


async def test_a_saved_segment_is_computed_and_announced(client_as, dealer_a, profile_app):
    city = unique_city()
    owner_id = await create_owner(client_as(dealer_a), city=city)
    key = f"s_{uuid.uuid4().hex[:8]}"
    before = await last_seq(profile_app)
    created = await client_as(MARKETING).post(
        "/segments", json={"key": key, "name": "Locals", "condition": in_city(city)}
    )
    assert created.status_code == 201, created.text
    assert created.json()["members"] == 1
    entered = [
        e
        for e in await events_after(
            profile_app, before, "cem.profile.segment.membership_changed.v1"
        )
        if e["segment_key"] == key
    ]
    assert [(e["owner_id"], e["entered"], e["reasons"]) for e in entered] == [
        (owner_id, True, [f"city = {city!r}"])
    ]
    members = (await client_as(MARKETING).get(f"/segments/{key}/members")).json()
    assert [m["owner_id"] for m in members["items"]] == [owner_id]

    # Changing the definition recomputes it: the owner leaves, and that is announced too.
    before = await last_seq(profile_app)
    updated = await client_as(MARKETING).put(
        f"/segments/{key}", json={"name": "Locals", "condition": in_city(unique_city())}
    )
    assert updated.json()["version"] == 2
    assert updated.json()["members"] == 0
    left = await events_after(profile_app, before, "cem.profile.segment.membership_changed.v1")
    assert [(e["owner_id"], e["entered"]) for e in left if e["segment_key"] == key] == [
        (owner_id, False)
    ]


async def test_a_recompute_on_demand_catches_facts_that_changed_without_an_event(
    client_as, dealer_a, profile_app
):
    """A data repair behind the service's back announces nothing; marketing's recompute
    brings the segment up to date and announces who entered."""
    city, repaired = unique_city(), unique_city()
    owner_id = await create_owner(client_as(dealer_a), city=city)
    key = f"s_{uuid.uuid4().hex[:8]}"
    marketing = client_as(MARKETING)
    body = {"key": key, "name": "Repaired", "condition": in_city(repaired)}
    assert (await marketing.post("/segments", json=body)).json()["members"] == 0
    moved = "UPDATE owners SET city = :city WHERE id = :id RETURNING 1"
    assert await scalar(profile_app, moved, city=repaired, id=owner_id) == 1

    before = await last_seq(profile_app)
    response = await marketing.post(f"/segments/{key}/recompute")
    assert response.status_code == 200, response.text
    assert response.json() == {"key": key, "entered": 1, "left": 0, "members": 1}
    entered = await events_after(profile_app, before, "cem.profile.segment.membership_changed.v1")
    assert [(e["owner_id"], e["entered"]) for e in entered if e["segment_key"] == key] == [
        (owner_id, True)
    ]
    again = (await marketing.post(f"/segments/{key}/recompute")).json()
    assert (again["entered"], again["left"], again["members"]) == (0, 0, 1)
    assert (await client_as(dealer_a).post(f"/segments/{key}/recompute")).status_code == 403
    unknown = await marketing.post(f"/segments/s_{uuid.uuid4().hex[:8]}/recompute")
    assert unknown.status_code == 404 and unknown.json()["code"] == "segment_not_found"


async def test_an_owner_enters_a_segment_when_their_events_arrive(client_as, dealer_a, profile_app):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    now = datetime.now(UTC)
    uses = [
        {"type": "feature_used", "occurred_at": (now - timedelta(minutes=i)).isoformat(),
         "properties": {"feature": "assisted_driving"}}
        for i in range(10)
    ]  # fmt: skip
    before = await last_seq(profile_app)
    assert (await owner.post("/events", json={"events": uses[:9]})).status_code == 202
    assert "tech_enthusiast" not in {
        m["segment_key"] for m in (await owner.get(f"/owners/{owner_id}/segments")).json()
    }
    assert (await owner.post("/events", json={"events": uses[9:]})).status_code == 202

    memberships = (await owner.get(f"/owners/{owner_id}/segments")).json()
    tech = next(m for m in memberships if m["segment_key"] == "tech_enthusiast")
    assert tech["reasons"] == [
        "at least 10 feature_used with {'feature': 'assisted_driving'} in the last 30 days"
    ]
    changes = await events_after(profile_app, before, "cem.profile.segment.membership_changed.v1")
    assert [(c["segment_key"], c["entered"]) for c in changes if c["owner_id"] == owner_id] == [
        ("tech_enthusiast", True)
    ]

    # A month later the uses have left the window: the timer takes the owner out.
    timer = SegmentTimer(profile_app.state.database, clock=lambda: now + timedelta(days=31))
    assert await timer.run_once() >= len(STANDARD)
    memberships = (await owner.get(f"/owners/{owner_id}/segments")).json()
    assert "tech_enthusiast" not in {m["segment_key"] for m in memberships}


async def test_segments_are_staff_only_and_counts_follow_the_callers_scope(
    client_as, admin, dealer_a
):
    city = unique_city()
    east = await create_dealer(admin, region="East")
    west = await create_dealer(admin, region="West")
    await create_owner(client_as(east), city=city)
    await create_owner(client_as(west), city=city)
    west_marketing = Caller(
        kind=CallerKind.STAFF,
        subject="w@test",
        roles=frozenset({StaffRole.MARKETING}),
        region="West",
    )
    body = {"condition": in_city(city)}
    assert (await client_as(MARKETING).post("/segments/preview", json=body)).json()["count"] == 2
    assert (await client_as(west_marketing).post("/segments/preview", json=body)).json()[
        "count"
    ] == 1
    assert (await client_as(dealer_a).get("/segments")).status_code == 403
    assert (await client_as(dealer_a).post("/segments/preview", json=body)).status_code == 403

    owner_id = await create_owner(client_as(dealer_a))
    other_owner = client_as(owner_caller(await create_owner(client_as(dealer_a))))
    assert (await other_owner.get(f"/owners/{owner_id}/segments")).status_code == 404
    assert (await client_as(west).get(f"/owners/{owner_id}/segments")).status_code == 404
