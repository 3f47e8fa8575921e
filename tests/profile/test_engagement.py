"""Interaction events, leads, consents, ownership over time, households and dealer groups."""

import uuid

from shared.auth import Caller, CallerKind, StaffRole
from tests.profile.conftest import (
    create_dealer,
    create_owner,
    dms_batch,
    events_after,
    last_seq,
    owner_caller,
)

NOW = "2026-11-30T10:00:00Z"


def app_event(type_: str, **properties) -> dict:
    return {"type": type_, "occurred_at": NOW, "properties": properties}


async def test_an_owner_sends_a_batch_of_catalogued_events(client_as, dealer_a):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    batch = {
        "events": [
            app_event("app_opened", screen="home") | {"id": "e1"},
            app_event("feature_used", feature="navigation", duration_seconds=30),
            app_event("configurator_option_chosen", model="ET7", option="colour", value="red"),
        ]
    }
    response = await owner.post("/events", json=batch)
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 3, "duplicates": 0}

    resent = await owner.post("/events", json={"events": [batch["events"][0]]})
    assert resent.json() == {"accepted": 0, "duplicates": 1}
    listed = (await owner.get(f"/owners/{owner_id}/events")).json()
    assert listed["total"] == 3
    assert {item["type"] for item in listed["items"]} == {
        "app_opened",
        "feature_used",
        "configurator_option_chosen",
    }


async def test_an_unknown_type_or_bad_properties_reject_the_whole_batch(client_as, dealer_a):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    response = await owner.post(
        "/events",
        json={
            "events": [
                app_event("app_opened"),
                app_event("telepathy_used"),
                app_event("feature_used", colour="red"),
            ]
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = [(error["field"], error["message"]) for error in response.json()["errors"]]
    assert ("body.events.1.type", "unknown event type 'telepathy_used'") in [
        (field, message.split(";")[0]) for field, message in errors
    ]
    assert ("body.events.2.properties", "'feature' is a required property") in errors
    listed = (await owner.get(f"/owners/{owner_id}/events")).json()
    assert listed["total"] == 0


async def test_a_wrongly_typed_property_is_named(client_as, dealer_a):
    owner_id = await create_owner(client_as(dealer_a))
    response = await client_as(owner_caller(owner_id)).post(
        "/events", json={"events": [app_event("feature_used", feature="x", duration_seconds=-1)]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.events.0.properties.duration_seconds"


async def test_a_social_connector_sends_events_for_the_owners_it_names(client_as, dealer_a):
    owner_id = await create_owner(client_as(dealer_a))
    connector = client_as(Caller(kind=CallerKind.SERVICE, subject="weibo-connector"))
    mention = app_event("social_mention", platform="weibo") | {
        "owner_id": owner_id, "source": "weibo_connector"
    }  # fmt: skip
    response = await connector.post("/events", json={"events": [mention]})
    assert response.status_code == 202, response.text
    listed = (await client_as(owner_caller(owner_id)).get(f"/owners/{owner_id}/events")).json()
    assert [(e["type"], e["source"]) for e in listed["items"]] == [
        ("social_mention", "weibo_connector")
    ]
    unnamed = await connector.post("/events", json={"events": [app_event("app_opened")]})
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"] == "body.events.0.owner_id"
    unknown_platform = app_event("social_mention", platform="myspace") | {"owner_id": owner_id}
    refused = await connector.post("/events", json={"events": [unknown_platform]})
    assert refused.json()["errors"][0]["field"] == "body.events.0.properties.platform"


async def test_events_are_isolated_by_owner_and_dealer(client_as, dealer_a, dealer_b):
    owner_id = await create_owner(client_as(dealer_a))
    other_owner = client_as(owner_caller(await create_owner(client_as(dealer_a))))
    sending_for_another = await other_owner.post(
        "/events", json={"events": [app_event("app_opened") | {"owner_id": owner_id}]}
    )
    assert sending_for_another.status_code == 422
    assert sending_for_another.json()["errors"][0]["field"] == "body.events.0.owner_id"
    assert (await other_owner.get(f"/owners/{owner_id}/events")).status_code == 404
    dealer_b_client = client_as(dealer_b)
    assert (await dealer_b_client.get(f"/owners/{owner_id}/events")).status_code == 404
    by_other_dealer = await dealer_b_client.post(
        "/events", json={"events": [app_event("app_opened") | {"owner_id": owner_id}]}
    )
    assert by_other_dealer.status_code == 422


async def test_a_test_drive_request_is_a_lead_for_the_chosen_dealer(
    client_as, admin, dealer_a, dealer_b, profile_app
):
    owner_id = await create_owner(admin)
    owner = client_as(owner_caller(owner_id))
    before = await last_seq(profile_app)
    response = await owner.post(
        "/leads",
        json={"kind": "test_drive", "dealer_id": str(dealer_a.dealer_id), "model": "ET5",
              "requested_slot": "2026-12-05T02:00:00Z"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    lead = response.json()
    [event] = await events_after(profile_app, before, "cem.profile.lead.created.v1")
    assert event["lead_id"] == lead["id"]
    assert event["kind"] == "test_drive"
    assert event["dealer_id"] == str(dealer_a.dealer_id)

    assert (await client_as(dealer_a).get(f"/leads/{lead['id']}")).status_code == 200
    # The dealer must follow up, so it now sees the owner.
    assert (await client_as(dealer_a).get(f"/owners/{owner_id}")).status_code == 200
    assert (await client_as(dealer_b).get(f"/leads/{lead['id']}")).status_code == 404
    stranger = client_as(owner_caller(await create_owner(admin)))
    assert (await stranger.get(f"/leads/{lead['id']}")).status_code == 404
    assert lead["id"] not in {item["id"] for item in (await stranger.get("/leads")).json()["items"]}


async def test_a_lead_needs_a_known_dealer_and_referral_code(client_as, admin):
    owner = client_as(owner_caller(await create_owner(admin)))
    no_dealer = await owner.post("/leads", json={"dealer_id": str(uuid.uuid4())})
    assert no_dealer.status_code == 422
    assert no_dealer.json()["errors"][0]["field"] == "body.dealer_id"
    dealer = await create_dealer(admin)
    bad_code = await owner.post(
        "/leads", json={"dealer_id": str(dealer.dealer_id), "referral_code": "ZZZZZZZZ"}
    )
    assert bad_code.status_code == 422
    assert bad_code.json()["errors"][0]["field"] == "body.referral_code"


async def test_consent_is_granted_withdrawn_and_kept_in_history(client_as, dealer_a, profile_app):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    grant = {"purpose": "marketing", "channel": "sms", "granted": True, "notice_version": "v3"}
    before = await last_seq(profile_app)
    assert (await owner.put(f"/owners/{owner_id}/consents", json=grant)).status_code == 200
    repeated = await owner.put(f"/owners/{owner_id}/consents", json=grant)
    withdrawn = await owner.put(
        f"/owners/{owner_id}/consents", json=grant | {"granted": False, "source": "sms_reply"}
    )
    body = withdrawn.json()
    assert repeated.json()["history"] == body["history"][:1]
    assert [entry["granted"] for entry in body["history"]] == [True, False]
    assert body["history"][1]["source"] == "sms_reply"
    assert body["current"] == [
        {"purpose": "marketing", "channel": "sms", "granted": False, "notice_version": "v3",
         "source": "sms_reply", "changed_at": body["history"][1]["changed_at"]}
    ]  # fmt: skip
    events = await events_after(profile_app, before, "cem.profile.consent.changed.v1")
    assert [(e["purpose"], e["channel"], e["granted"]) for e in events] == [
        ("marketing", "sms", True),
        ("marketing", "sms", False),
    ]


async def test_location_consent_has_no_channel_and_others_cannot_see_consents(
    client_as, dealer_a, dealer_b
):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    wrong = await owner.put(
        f"/owners/{owner_id}/consents",
        json={"purpose": "location", "channel": "sms", "granted": True, "notice_version": "v1"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.channel"
    assert (await client_as(dealer_b).get(f"/owners/{owner_id}/consents")).status_code == 404
    # Nothing was answered, so location data stays off.
    assert (await owner.get(f"/owners/{owner_id}/consents")).json()["current"] == []


async def test_ownership_changes_keep_who_owned_the_car_when(
    client_as, dealer_a, dealer_b, profile_app
):
    dealer = client_as(dealer_a)
    await dealer.post("/imports", json=dms_batch(owner_ref="H1"))
    vehicle = (await dealer.get("/vehicles")).json()["items"][-1]
    first_owner = vehicle["owner_id"]
    second_owner = await create_owner(dealer)
    before = await last_seq(profile_app)
    response = await dealer.post(
        f"/vehicles/{vehicle['id']}/ownership",
        json={"owner_id": second_owner, "effective_from": "2026-06-01"},
    )
    assert response.status_code == 200, response.text
    [event] = await events_after(profile_app, before, "cem.profile.vehicle.ownership_changed.v1")
    assert (event["owner_id"], event["previous_owner_id"]) == (second_owner, first_owner)
    assert event["effective_from"] == "2026-06-01"

    on_complaint_day = await dealer.get(f"/vehicles/{vehicle['id']}/roles?on=2026-01-15")
    assert [role["owner_id"] for role in on_complaint_day.json()] == [first_owner]
    today = await dealer.get(f"/vehicles/{vehicle['id']}/roles?on=2026-07-01")
    assert [role["owner_id"] for role in today.json()] == [second_owner]

    backdated = await dealer.post(
        f"/vehicles/{vehicle['id']}/ownership",
        json={"owner_id": first_owner, "effective_from": "2026-05-01"},
    )
    assert backdated.status_code == 409
    assert (await client_as(dealer_b).get(f"/vehicles/{vehicle['id']}/roles")).status_code == 404


async def test_drivers_have_roles_that_end(client_as, dealer_a):
    dealer = client_as(dealer_a)
    await dealer.post("/imports", json=dms_batch(owner_ref="H2"))
    vehicle = (await dealer.get("/vehicles")).json()["items"][-1]
    driver = await create_owner(dealer)
    roles = (
        await dealer.post(
            f"/vehicles/{vehicle['id']}/drivers",
            json={"owner_id": driver, "role": "primary_driver", "effective_from": "2026-02-01"},
        )
    ).json()
    primary = next(role for role in roles if role["role"] == "primary_driver")
    second = await dealer.post(
        f"/vehicles/{vehicle['id']}/drivers",
        json={"owner_id": vehicle["owner_id"], "role": "primary_driver",
              "effective_from": "2026-03-01"},
    )  # fmt: skip
    assert second.status_code == 409
    ended = await dealer.post(
        f"/vehicles/{vehicle['id']}/roles/{primary['id']}/end", json={"effective_to": "2026-04-01"}
    )
    assert ended.status_code == 200
    assert next(r for r in ended.json() if r["id"] == primary["id"])["effective_to"] == "2026-04-01"


async def test_households_group_owners_once_and_are_isolated(
    client_as, dealer_a, dealer_b, profile_app
):
    dealer = client_as(dealer_a)
    partner, child = await create_owner(dealer), await create_owner(dealer)
    before = await last_seq(profile_app)
    response = await dealer.post(
        "/households", json={"name": "Li family", "owner_ids": [partner, child]}
    )
    assert response.status_code == 201, response.text
    household = response.json()
    assert household["member_ids"] == [partner, child]
    joined = await events_after(profile_app, before, "cem.profile.household.membership_changed.v1")
    assert [(e["owner_id"], e["joined"]) for e in joined] == [(partner, True), (child, True)]
    again = await dealer.post("/households", json={"name": "Other", "owner_ids": [child]})
    assert again.status_code == 409
    assert (await client_as(dealer_b).get(f"/households/{household['id']}")).status_code == 404
    foreign = await client_as(dealer_b).post(
        f"/households/{household['id']}/members", json={"owner_id": partner}
    )
    assert foreign.status_code == 404


async def test_the_dealer_hierarchy_scopes_who_sees_a_group(client_as, admin):
    code = f"G{uuid.uuid4().hex[:6]}"
    group = (
        await admin.post(
            "/dealer-groups", json={"code": code, "name": "Grand Auto", "region": "North"}
        )
    ).json()
    member = await create_dealer(admin, region="North")
    outsider = await create_dealer(admin, region="North")
    assigned = await admin.put(f"/dealers/{member.dealer_id}/group", json={"group_id": group["id"]})
    assert assigned.json()["group_id"] == group["id"]
    wrong_region = await create_dealer(admin, region="South")
    refused = await admin.put(
        f"/dealers/{wrong_region.dealer_id}/group", json={"group_id": group["id"]}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.group_id"

    assert (await client_as(member).get(f"/dealer-groups/{group['id']}")).json()["dealer_ids"] == [
        str(member.dealer_id)
    ]
    assert (await client_as(outsider).get(f"/dealer-groups/{group['id']}")).status_code == 404
    south_staff = Caller(
        kind=CallerKind.STAFF,
        subject="s@test",
        roles=frozenset({StaffRole.CX_AGENT}),
        region="South",
    )
    assert (await client_as(south_staff).get(f"/dealer-groups/{group['id']}")).status_code == 404


async def test_the_catalogue_is_published_with_each_types_schema(client_as, dealer_a):
    response = await client_as(dealer_a).get("/event-types")
    catalogue = {item["type"]: item["schema"] for item in response.json()}
    assert catalogue["feature_used"]["required"] == ["feature"]
    assert "test_drive_requested" in catalogue and "community_post_liked" in catalogue
