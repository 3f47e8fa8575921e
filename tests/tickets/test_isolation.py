"""Each caller sees only their own: another dealer's or owner's case is a 404, internal
notes never reach the owner, configuration is for staff."""

from shared.auth import Caller, CallerKind, StaffRole
from tests.tickets.conftest import new_dealer, new_owner

CASE_READS = ("", "/timeline", "/comments")


async def test_a_dealer_sees_only_the_cases_routed_to_it(client_as):
    a, b = client_as(new_dealer()), client_as(new_dealer())
    mine = await a.open(kind="lead_follow_up", subject="Lead", description="Call back")
    theirs = await b.open(kind="lead_follow_up", subject="Lead", description="Call back")

    assert [t["id"] for t in (await a.get("/tickets")).json()["items"]] == [mine["id"]]
    for suffix in CASE_READS:
        response = await a.get(f"/tickets/{theirs['id']}{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["code"] == "ticket_not_found"
        assert (await a.get(f"/tickets/{mine['id']}{suffix}")).status_code == 200
    writes = [
        ("/transitions", {"to": "acknowledged"}),
        ("/comments", {"body": "hello"}),
        ("/pause", {"reason": "parts_back_order"}),
        ("/watchers", {"watcher": "spy"}),
    ]
    for suffix, body in writes:
        response = await a.post(f"/tickets/{theirs['id']}{suffix}", json=body)
        assert response.status_code == 404, suffix
    untouched = (await b.get(f"/tickets/{theirs['id']}")).json()
    assert untouched["status"] == "new" and untouched["watchers"] == []


async def test_a_dealer_cannot_open_a_case_for_another_dealer(client_as):
    response = await client_as(new_dealer()).post(
        "/tickets",
        json={"kind": "inquiry", "subject": "x", "description": "y",
              "dealer_id": str(new_dealer().dealer_id)},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.dealer_id"


async def test_an_owner_sees_only_their_cases_and_never_internal_notes(client_as, agent):
    owner, stranger = new_owner(), new_owner()
    mine = await client_as(owner).open()
    other = await client_as(stranger).open()
    await agent.post(f"/tickets/{mine['id']}/comments", json={"body": "We are on it"})
    await agent.post(
        f"/tickets/{mine['id']}/comments",
        json={"body": "Owner sounds angry; goodwill?", "visibility": "internal"},
    )

    me = client_as(owner)
    listing = (await me.get("/tickets")).json()
    assert [t["id"] for t in listing["items"]] == [mine["id"]]
    for suffix in CASE_READS:
        assert (await me.get(f"/tickets/{other['id']}{suffix}")).status_code == 404
    comments = (await me.get(f"/tickets/{mine['id']}/comments")).json()
    assert [c["body"] for c in comments["items"]] == ["We are on it"]
    staff_view = (await agent.get(f"/tickets/{mine['id']}/comments")).json()
    assert [c["visibility"] for c in staff_view["items"]] == ["public", "internal"]

    case = (await me.get(f"/tickets/{mine['id']}")).json()
    assert "watchers" not in case and "queue" not in case and "sla" not in case
    assert case["status_label"] == {"en": "Submitted", "zh": "已提交"}


async def test_an_owner_cannot_post_an_internal_note(client_as):
    owner = new_owner()
    ticket = await client_as(owner).open()
    response = await client_as(owner).post(
        f"/tickets/{ticket['id']}/comments", json={"body": "psst", "visibility": "internal"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.visibility"


async def test_the_owner_timeline_speaks_plain_words(client_as, agent):
    owner = new_owner()
    ticket = await client_as(owner).open()
    await agent.move(ticket["id"], "acknowledged", "internal reason")
    await agent.move(ticket["id"], "in_progress")
    await agent.post(f"/tickets/{ticket['id']}/pause", json={"reason": "parts_back_order"})
    timeline = (await client_as(owner).get(f"/tickets/{ticket['id']}/timeline")).json()
    assert [entry["status_label"]["en"] for entry in timeline] == [
        "Submitted",
        "Received",
        "Engineer following up",
    ]
    assert [entry["status_label"]["zh"] for entry in timeline] == [
        "已提交",
        "已受理",
        "工程师跟进中",
    ]
    assert all(entry["actor"] is None and entry["detail"] is None for entry in timeline)


async def test_regional_staff_see_only_cases_of_their_region(client_as, agent):
    east = Caller(
        kind=CallerKind.STAFF, subject="cx@east", roles=frozenset({StaffRole.CX_AGENT}),
        region="East",
    )  # fmt: skip
    unrouted = await agent.open()
    assert (await client_as(east).get(f"/tickets/{unrouted['id']}")).status_code == 404


async def test_marketing_staff_cannot_read_cases(client_as, agent):
    ticket = await agent.open()
    marketing = Caller(kind=CallerKind.STAFF, subject="mkt", roles=frozenset({StaffRole.MARKETING}))
    response = await client_as(marketing).get(f"/tickets/{ticket['id']}")
    assert response.status_code == 403


async def test_configuration_is_for_staff(client_as):
    dealer = client_as(new_dealer())
    for path in ("/queues", "/routing-rules", "/sla-policies"):
        assert (await dealer.get(path)).status_code == 403, path
    assert (await dealer.post("/queues", json={"key": "mine", "name": "x"})).status_code == 403


async def test_a_dealer_manages_only_its_own_business_hours(client_as, admin):
    a, b = new_dealer(), new_dealer()
    hours = {"time_zone": "Asia/Shanghai", "weekly_hours": {"mon": [["09:00", "18:00"]]}}
    assert (
        await client_as(a).put(f"/dealers/{a.dealer_id}/settings", json=hours)
    ).status_code == 200
    assert (await client_as(b).get(f"/dealers/{a.dealer_id}/settings")).status_code == 404
    assert (
        await client_as(b).put(f"/dealers/{a.dealer_id}/settings", json=hours)
    ).status_code == 404
    assert (await admin.get(f"/dealers/{a.dealer_id}/settings")).json()[
        "time_zone"
    ] == "Asia/Shanghai"


async def test_requests_without_a_gateway_token_are_refused(client_as):
    assert (await client_as(None).get("/tickets")).status_code == 401
