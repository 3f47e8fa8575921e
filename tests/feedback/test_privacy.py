"""The owner's privacy: erasure keeps anonymous scores, removes the rest, survives late
events and is confirmed; the export is the owner's own, or staff's."""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import uuid
from datetime import UTC, datetime

from shared.auth import Caller, CallerKind, StaffRole
from shared.contracts.profile import OrderStatusChanged, OwnerErasureRequested, OwnerRegistered
from tests.feedback.conftest import (
    CONNECTOR,
    MARKETING,
    events,
    handled,
    invite,
    last_seq,
    new_dealer,
    new_owner,
    scalar,
    token_of,
)
from tests.helpers import eventually, staff_exports_recorded

ERASED = "cem.feedback.erasure.completed.v1"
CX_AGENT = Caller(kind=CallerKind.STAFF, subject="cx@test", roles=frozenset({StaffRole.CX_AGENT}))


async def owner_with_data(app, admin, anonymous, client_as, dealer) -> tuple[Caller, dict]:
    """An owner who answered one survey (a detractor with a comment), has one open
    invitation and wrote one community post."""
    owner = new_owner()
    answered = await invite(admin, owner, dealer_id=str(dealer.dealer_id))
    token = await token_of(app, answered["id"])
    response = await anonymous.post(
        f"/public/invitations/{token}/response",
        json={"answers": {"recommend": 3, "reason": "智能钥匙又失灵了，太失望了"}},
        headers={"x-forwarded-for": "203.0.113.50", "x-device-id": "phone-1"},
    )
    assert response.status_code == 201, response.text
    open_invitation = await invite(admin, owner, dealer_id=str(dealer.dealer_id))
    post = {"source": "community", "source_id": f"c-{uuid.uuid4()}", "owner_id":
            str(owner.owner_id), "body": "My smart key failed again", "published_at":
            "2026-03-01T08:00:00Z"}  # fmt: skip
    ingested = await client_as(CONNECTOR).post("/posts/batches", json={"posts": [post]})
    return owner, {
        "response": response.json(),
        "open": open_invitation,
        "open_token": await token_of(app, open_invitation["id"]),
        "post": post,
        "post_id": ingested.json()["post_ids"][0],
    }


async def erase(app, publisher, owner: Caller) -> tuple[OwnerErasureRequested, object]:
    request = OwnerErasureRequested(
        request_id=uuid.uuid4(), owner_id=owner.owner_id, requested_at=datetime.now(UTC)
    )
    envelope = await publisher(request)
    await eventually(lambda: handled(app, "owner_erasure_requested", envelope))
    return request, envelope


async def test_erasure_keeps_anonymous_scores_and_removes_the_rest(
    feedback_app, publisher, admin, anonymous, client_as, clock
):
    dealer = new_dealer()
    owner, data = await owner_with_data(feedback_app, admin, anonymous, client_as, dealer)
    day = clock.now.date().isoformat()
    window = {"start": day, "end": day}
    before = (await client_as(dealer).get("/analytics/scores", params=window)).json()["total"]

    request, _ = await erase(feedback_app, publisher, owner)

    stored = (await admin.get(f"/responses/{data['response']['id']}")).json()
    assert stored["score"] == 3 and stored["band"] == "detractor"
    assert stored["owner_id"] is None and stored["comment"] is None and stored["answers"] == {}
    assert stored["device_hash"] is None and stored["network_hash"] is None
    after = (await client_as(dealer).get("/analytics/scores", params=window)).json()["total"]
    assert after == before  # the statistics keep the score
    verbatims = await client_as(dealer).get("/analytics/verbatims", params=window)
    assert verbatims.json()["total"] == 0

    withdrawn = (await admin.get(f"/invitations/{data['open']['id']}")).json()
    assert withdrawn["status"] == "suppressed" and withdrawn["suppressed_reason"] == "owner_erased"
    link = await anonymous.get(f"/public/invitations/{data['open_token']}")
    assert link.status_code == 404
    post = (await admin.get(f"/posts/{data['post_id']}")).json()
    assert post["body"] == "" and post["owner_id"] is None
    leftover = await scalar(
        feedback_app,
        "SELECT count(*) FROM responses WHERE row_to_json(responses)::text LIKE '%智能钥匙%' "
        "AND id = :id",
        id=data["response"]["id"],
    )
    assert leftover == 0

    (confirmed,) = await events(feedback_app, ERASED, about=str(request.request_id))
    assert confirmed["data"]["owner_id"] == str(owner.owner_id)
    assert confirmed["data"]["service"] == "feedback"
    assert confirmed["data"]["records_erased"] >= 4  # answer, two invitations, post
    export = (await client_as(CX_AGENT).get(f"/privacy/owners/{owner.owner_id}/export")).json()
    assert export["responses"] == export["invitations"] == export["posts"] == []


async def test_late_events_do_not_bring_an_erased_owner_back(
    feedback_app, publisher, admin, anonymous, client_as, clock
):
    dealer = new_dealer()
    owner, data = await owner_with_data(feedback_app, admin, anonymous, client_as, dealer)
    await erase(feedback_app, publisher, owner)

    registered = await publisher(OwnerRegistered(owner_id=owner.owner_id, preferred_language="zh"))
    order = OrderStatusChanged(
        order_id=uuid.uuid4(), owner_id=owner.owner_id, dealer_id=dealer.dealer_id, model="ET5",
        status="delivered", changed_at=clock.now,
    )  # fmt: skip
    delivered = await publisher(order)
    await eventually(lambda: handled(feedback_app, "owner_registered", registered))
    await eventually(lambda: handled(feedback_app, "order_delivered", delivered))
    known = "SELECT count(*) FROM known_owners WHERE id = :id"
    assert await scalar(feedback_app, known, id=owner.owner_id) == 0
    invited = "SELECT count(*) FROM invitations WHERE owner_id = :id"
    assert await scalar(feedback_app, invited, id=owner.owner_id) == 0
    outcome = "SELECT outcome FROM touchpoints WHERE source = :source"
    assert await scalar(feedback_app, outcome, source=f"order:{order.order_id}") == "owner_erased"

    resent = await client_as(CONNECTOR).post("/posts/batches", json={"posts": [data["post"]]})
    assert resent.json()["skipped"] == 1 and resent.json()["post_ids"] == []
    new_post = data["post"] | {"source_id": f"c-{uuid.uuid4()}"}
    again = await client_as(CONNECTOR).post("/posts/batches", json={"posts": [new_post]})
    assert again.json()["skipped"] == 1
    manual = await admin.post(
        "/invitations",
        json={"survey_key": "delivery_nps", "owner_id": str(owner.owner_id),
              "touchpoint": "call_centre_contact"},
    )  # fmt: skip
    assert manual.status_code == 409 and manual.json()["code"] == "owner_erased"


async def test_the_same_erasure_twice_erases_once_and_confirms_each_time(
    feedback_app, publisher, admin, anonymous, client_as
):
    owner, _ = await owner_with_data(feedback_app, admin, anonymous, client_as, new_dealer())
    request, envelope = await erase(feedback_app, publisher, owner)
    since = await last_seq(feedback_app)
    await publisher(request, envelope=envelope)  # redelivered: the inbox drops it
    again = await publisher(request)  # the request again (a new event): nothing left to erase
    await eventually(lambda: handled(feedback_app, "owner_erasure_requested", again))
    confirmations = await events(feedback_app, ERASED, since=since)
    assert [c["data"]["records_erased"] for c in confirmations] == [0]


async def test_the_export_is_for_the_owner_and_staff_only_and_only_staffs_is_audited(
    feedback_app, admin, anonymous, client_as
):
    dealer = new_dealer()
    owner, data = await owner_with_data(feedback_app, admin, anonymous, client_as, dealer)
    path = f"/privacy/owners/{owner.owner_id}/export"
    own = await client_as(owner).get(path)
    assert own.status_code == 200
    export = own.json()
    assert [r["id"] for r in export["responses"]] == [data["response"]["id"]]
    assert export["responses"][0]["comment"] == "智能钥匙又失灵了，太失望了"
    assert len(export["invitations"]) == 2 and len(export["posts"]) == 1
    assert (await client_as(CX_AGENT).get(path)).status_code == 200
    assert (await client_as(new_owner()).get(path)).status_code == 404
    assert (await client_as(dealer).get(path)).status_code == 403
    assert (await client_as(MARKETING).get(path)).status_code == 403
    # The owner's own export is not a staff read; refused exports are none.
    assert await staff_exports_recorded(feedback_app, "feedback", owner.owner_id) == [
        ("cx@test", ["cx_agent"])
    ]
