"""An owner's data in tickets: exported to them (or CX staff) and erased on request, with
late events unable to bring it back."""

import uuid
from datetime import UTC, datetime

from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import (
    LeadCreated,
    OwnerErasureRequested,
    OwnerRegistered,
    VehicleRegistered,
)
from tests.helpers import eventually, staff_exports_recorded
from tests.tickets.conftest import handled, new_dealer, new_owner, scalar
from tests.tickets.test_intake import flagged

ATTACHMENT = {"name": "key.jpg", "url": "https://files.example/key.jpg"}


def export_path(owner: Caller) -> str:
    return f"/privacy/owners/{owner.owner_id}/export"


async def known_owner(publisher, tickets_app, owner: Caller) -> uuid.UUID:
    """The owner and their car, as profile announced them."""
    vehicle_id = uuid.uuid4()
    events = [
        await publisher(OwnerRegistered(owner_id=owner.owner_id, city="Hangzhou")),
        await publisher(VehicleRegistered(vehicle_id=vehicle_id, vin="LRW3E7EK4NC000001",
                                          model="ET5", owner_id=owner.owner_id)),
    ]  # fmt: skip
    await eventually(lambda: handled(tickets_app, "owner_registered", events[0]))
    await eventually(lambda: handled(tickets_app, "vehicle_registered", events[1]))
    return vehicle_id


async def case_with_notes(client_as, agent, owner: Caller, vehicle_id=None) -> dict:
    fields = {"vehicle_id": str(vehicle_id)} if vehicle_id else {}
    ticket = await client_as(owner).open(description="My key at 12 Lake Road fails", **fields)
    await client_as(owner).post(
        f"/tickets/{ticket['id']}/comments",
        json={"body": "Call me on 138-0000-0000", "attachments": [ATTACHMENT]},
    )
    await agent.post(f"/tickets/{ticket['id']}/comments", json={"body": "We will call you"})
    await agent.post(
        f"/tickets/{ticket['id']}/comments",
        json={"body": "VIP, handle with care", "visibility": "internal"},
    )
    await agent.move(ticket["id"], "acknowledged", "Spoke to Mr Wang")
    return ticket


async def test_an_owner_exports_everything_tickets_holds_about_them(
    client_as, agent, publisher, tickets_app
):
    owner = new_owner()
    vehicle_id = await known_owner(publisher, tickets_app, owner)
    ticket = await case_with_notes(client_as, agent, owner, vehicle_id)

    response = await client_as(owner).get(export_path(owner))
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["profile"]["city"] == "Hangzhou" and export["erased_at"] is None
    assert [v["id"] for v in export["vehicles"]] == [str(vehicle_id)]
    [case] = export["cases"]
    assert case["case"]["id"] == ticket["id"]
    assert case["case"]["description"] == "My key at 12 Lake Road fails"
    assert [c["body"] for c in case["comments"]] == ["Call me on 138-0000-0000", "We will call you"]
    assert [e["status_label"]["zh"] for e in case["timeline"]] == ["已提交", "已受理"]

    staff = (await agent.get(export_path(owner))).json()
    assert [c["visibility"] for c in staff["cases"][0]["comments"]] == [
        "public",
        "public",
        "internal",
    ]
    assert staff["cases"][0]["case"]["watchers"] == []


async def test_only_the_owner_or_cx_staff_may_export(client_as, agent):
    owner, stranger = new_owner(), new_owner()
    await case_with_notes(client_as, agent, owner)

    response = await client_as(stranger).get(export_path(owner))
    assert response.status_code == 404 and response.json()["code"] == "owner_data_not_found"
    assert (await client_as(stranger).get(export_path(stranger))).json()["cases"] == []
    assert (await client_as(new_dealer()).get(export_path(owner))).status_code == 403
    marketing = Caller(kind=CallerKind.STAFF, subject="m", roles=frozenset({StaffRole.MARKETING}))
    assert (await client_as(marketing).get(export_path(owner))).status_code == 403
    east = Caller(kind=CallerKind.STAFF, subject="e", roles=frozenset({StaffRole.CX_AGENT}),
                  region="East")  # fmt: skip
    assert (await client_as(east).get(export_path(owner))).json()["cases"] == []


async def test_a_staff_export_is_recorded_for_the_owners_audit_log_and_the_owners_own_is_not(
    client_as, agent, tickets_app
):
    owner = new_owner()
    await case_with_notes(client_as, agent, owner)
    assert (await client_as(owner).get(export_path(owner))).status_code == 200
    assert (await client_as(new_owner()).get(export_path(owner))).status_code == 404
    assert await staff_exports_recorded(tickets_app, "tickets", owner.owner_id) == []

    assert (await agent.get(export_path(owner))).status_code == 200
    assert await staff_exports_recorded(tickets_app, "tickets", owner.owner_id) == [
        ("agent@test", ["cx_agent"])
    ]


async def erase(publisher, tickets_app, owner: Caller, request_id: uuid.UUID | None = None):
    event = OwnerErasureRequested(
        request_id=request_id or uuid.uuid4(),
        owner_id=owner.owner_id,
        requested_at=datetime.now(UTC),
    )
    envelope = await publisher(event)
    await eventually(lambda: handled(tickets_app, "owner_erasure_requested", envelope))
    return event


async def completions(tickets_app, request_id: uuid.UUID) -> list[dict]:
    return await scalar(
        tickets_app,
        "SELECT coalesce(jsonb_agg(envelope->'data'), '[]') FROM outbox"
        " WHERE subject = 'cem.tickets.erasure.completed.v1'"
        " AND envelope->'data'->>'request_id' = :id",
        id=str(request_id),
    )


async def test_erasure_blanks_the_owners_text_and_keeps_anonymous_cases(
    client_as, agent, publisher, tickets_app
):
    owner = new_owner()
    vehicle_id = await known_owner(publisher, tickets_app, owner)
    ticket = await case_with_notes(client_as, agent, owner, vehicle_id)

    request = await erase(publisher, tickets_app, owner)

    case = (await agent.get(f"/tickets/{ticket['id']}")).json()
    assert case["status"] == "acknowledged" and case["sla"]  # still counted, anonymously
    assert case["description"] == case["subject"] == "(erased)"
    assert case["owner_id"] is None and case["vehicle_id"] is None
    comments = (await agent.get(f"/tickets/{ticket['id']}/comments")).json()["items"]
    assert {c["body"] for c in comments} == {"(erased)"}
    assert all(c["attachments"] == [] for c in comments)
    assert comments[0]["author"] == "(erased)" and comments[1]["author"] == "agent@test"
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    assert all(entry["detail"] is None for entry in timeline)

    [done] = await completions(tickets_app, request.request_id)
    assert done["owner_id"] == str(owner.owner_id) and done["service"] == "tickets"
    assert done["records_erased"] == 1 + 3 + 1 + 1  # case, comments, vehicle link, profile
    export = (await agent.get(export_path(owner))).json()
    assert export["erased_at"] is not None
    assert export["profile"] is None and export["vehicles"] == [] and export["cases"] == []
    assert (await client_as(owner).get("/tickets")).json()["total"] == 0


async def test_late_events_do_not_bring_an_erased_owner_back(client_as, publisher, tickets_app):
    owner, dealer = new_owner(), new_dealer()
    await erase(publisher, tickets_app, owner)
    late = [
        await publisher(OwnerRegistered(owner_id=owner.owner_id, city="Hangzhou")),
        await publisher(flagged(uuid.uuid4(), owner.owner_id)),
        await publisher(LeadCreated(lead_id=uuid.uuid4(), kind="lead", owner_id=owner.owner_id,
                                    dealer_id=dealer.dealer_id, channel="web",
                                    created_at=datetime.now(UTC))),
    ]  # fmt: skip
    await eventually(lambda: handled(tickets_app, "owner_registered", late[0]))
    await eventually(lambda: handled(tickets_app, "post_flagged", late[1]))
    await eventually(lambda: handled(tickets_app, "lead_created", late[2]))

    assert (
        await scalar(
            tickets_app, "SELECT count(*) FROM known_owners WHERE id = :id", id=owner.owner_id
        )
        == 0
    )
    assert (
        await scalar(
            tickets_app, "SELECT count(*) FROM tickets WHERE owner_id = :id", id=owner.owner_id
        )
        == 0
    )
    assert (await client_as(dealer).get("/tickets")).json()["total"] == 0


async def test_the_same_erasure_request_published_twice_completes_once(
    client_as, agent, publisher, tickets_app
):
    owner = new_owner()
    await case_with_notes(client_as, agent, owner)
    event = OwnerErasureRequested(
        request_id=uuid.uuid4(), owner_id=owner.owner_id, requested_at=datetime.now(UTC)
    )
    first = await publisher(event)
    again = await publisher(event)  # profile sent the request again: a new envelope
    await eventually(lambda: handled(tickets_app, "owner_erasure_requested", first, again))
    assert len(await completions(tickets_app, event.request_id)) == 1
