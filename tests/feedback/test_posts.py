"""Reviews and community posts: idempotent batched intake, analysis and complaint flags."""

# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import uuid

from shared.contracts.profile import VehicleRegistered
from tests.feedback.conftest import (
    ADMIN,
    CONNECTOR,
    events,
    handled,
    last_seq,
    new_dealer,
    new_owner,
)
from tests.helpers import eventually

FLAGGED = "cem.feedback.post.flagged.v1"


def post(source_id: str, body: str, **fields) -> dict:
    return {"source": "community", "source_id": source_id, "body": body,
            "published_at": "2026-03-01T08:00:00Z"} | fields  # fmt: skip


async def register_vehicle(app, publisher, vin: str, owner, dealer) -> None:
    """Profile registers the vehicle; feedback learns whose it is and who services it."""
    vehicle = VehicleRegistered(
        vehicle_id=uuid.uuid4(), vin=vin, model="ET5", owner_id=owner.owner_id,
        servicing_dealer_id=dealer.dealer_id,
    )  # fmt: skip
    registered = await publisher(vehicle)
    await eventually(lambda: handled(app, "vehicle_registered", registered))


async def ingest(client, *posts: dict) -> dict:
    response = await client.post("/posts/batches", json={"posts": list(posts)})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_same_batch_twice_changes_nothing(feedback_app, client_as):
    connector = client_as(CONNECTOR)
    batch = [post(f"c-{uuid.uuid4()}", "Charging at the new supercharger was quick, love it"),
             post(f"c-{uuid.uuid4()}", "智能钥匙又失灵了，早上打不开车门，太失望了")]  # fmt: skip
    since = await last_seq(feedback_app)
    first = await ingest(connector, *batch)
    assert (first["created"], first["flagged"]) == (2, 1)

    again = await ingest(connector, *batch)
    counts = [again[name] for name in ("created", "updated", "unchanged", "flagged")]
    assert counts == [0, 0, 2, 0]
    assert again["post_ids"] == first["post_ids"]
    assert len(await events(feedback_app, FLAGGED, since=since)) == 1


async def test_engagement_counts_update_without_flagging_again(feedback_app, client_as):
    connector = client_as(CONNECTOR)
    item = post(f"c-{uuid.uuid4()}", "The smart key keeps failing, I cannot unlock my car again.")
    since = await last_seq(feedback_app)
    (post_id,) = (await ingest(connector, item))["post_ids"]
    later = await ingest(connector, item | {"likes": 40, "comments": 12, "shares": 3})
    assert later["updated"] == 1 and later["flagged"] == 0

    # A connector only sends; staff read what it sent.
    stored = (await client_as(ADMIN).get(f"/posts/{post_id}")).json()
    assert (stored["likes"], stored["comments"], stored["shares"]) == (40, 12, 3)
    assert stored["flag"] == "complaint"
    assert len(await events(feedback_app, FLAGGED, about=post_id, since=since)) == 1


async def test_a_chinese_smart_key_complaint_is_flagged_with_its_facts(
    feedback_app, client_as, publisher
):
    owner, dealer = new_owner(), new_dealer()
    vin = "LRW3E7EK0NC100003"
    await register_vehicle(feedback_app, publisher, vin, owner, dealer)
    text = "智能钥匙总是失灵，每天早上都要试好几次才能解锁，已经去店里两次了还没解决"
    (post_id,) = (await ingest(client_as(CONNECTOR), post(f"c-{uuid.uuid4()}", text, vin=vin)))[
        "post_ids"
    ]
    (flagged,) = await events(feedback_app, FLAGGED, about=post_id)
    data = flagged["data"]
    assert data["flag"] == "complaint" and data["category"] == "smart_key"
    assert data["priority"] == "high" and data["severity"] == "high"
    assert data["owner_id"] == str(owner.owner_id) and data["dealer_id"] == str(dealer.dealer_id)
    assert data["vin"] == vin and data["excerpt"] == text and data["language"] == "zh"


async def test_safety_words_flag_an_english_review_as_urgent(feedback_app, client_as):
    text = "While driving on the highway the car lost power and the brakes went soft. Scary."
    review = post(f"r-{uuid.uuid4()}", text, source="app_store", rating=1)
    (post_id,) = (await ingest(client_as(CONNECTOR), review))["post_ids"]
    (flagged,) = await events(feedback_app, FLAGGED, about=post_id)
    assert flagged["data"]["flag"] == "safety" and flagged["data"]["priority"] == "urgent"


async def test_praise_and_questions_are_not_complaints(feedback_app, client_as):
    since = await last_seq(feedback_app)
    result = await ingest(
        client_as(CONNECTOR),
        post(f"c-{uuid.uuid4()}", "交付很顺利，交付专员非常专业，新车很满意"),
        post(f"c-{uuid.uuid4()}", "How do I add a second phone key for my wife?"),
    )
    assert result["flagged"] == 0
    assert await events(feedback_app, FLAGGED, since=since) == []


async def test_posts_are_seen_only_by_their_dealer_and_owner(feedback_app, client_as, publisher):
    owner, dealer = new_owner(), new_dealer()
    vin = "LRW3E7EK0NC100004"
    await register_vehicle(feedback_app, publisher, vin, owner, dealer)
    (post_id,) = (
        await ingest(client_as(CONNECTOR), post(f"c-{uuid.uuid4()}", "Nice car", vin=vin))
    )["post_ids"]
    assert (await client_as(dealer).get(f"/posts/{post_id}")).status_code == 200
    assert (await client_as(owner).get(f"/posts/{post_id}")).status_code == 200
    assert (await client_as(new_dealer()).get(f"/posts/{post_id}")).status_code == 404
    assert (await client_as(new_owner()).get(f"/posts/{post_id}")).status_code == 404
    assert (await client_as(new_dealer()).get("/posts")).json()["total"] == 0


async def test_dealers_and_owners_cannot_feed_posts(client_as):
    for caller in (new_dealer(), new_owner()):
        response = await client_as(caller).post(
            "/posts/batches", json={"posts": [post("x-1", "hello")]}
        )
        assert response.status_code == 403


async def test_a_malformed_batch_is_refused_whole(client_as):
    connector = client_as(CONNECTOR)
    source_id = f"c-{uuid.uuid4()}"
    response = await connector.post(
        "/posts/batches",
        json={"posts": [post(source_id, "fine"), post("c-2", "bad", likes=-1)]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.posts.1.likes"
    listed = (await client_as(ADMIN).get("/posts", params={"limit": 200})).json()["items"]
    assert source_id not in {item["source_id"] for item in listed}


async def test_an_older_engagement_snapshot_never_overwrites_a_newer_one(client_as):
    connector = client_as(CONNECTOR)
    item = post(f"c-{uuid.uuid4()}", "Took the family to the coast, great trip")
    newer = item | {"likes": 90, "shares": 7, "engagement_at": "2026-03-05T10:00:00Z"}
    older = item | {"likes": 30, "shares": 1, "engagement_at": "2026-03-03T10:00:00Z"}
    (post_id,) = (await ingest(connector, newer))["post_ids"]
    late = await ingest(connector, older)  # a connector retry delivered out of order
    assert late["unchanged"] == 1
    stored = (await client_as(ADMIN).get(f"/posts/{post_id}")).json()
    assert (stored["likes"], stored["shares"]) == (90, 7)
    latest = older | {"likes": 120, "engagement_at": "2026-03-06T10:00:00Z"}
    assert (await ingest(connector, latest))["updated"] == 1
    assert (await client_as(ADMIN).get(f"/posts/{post_id}")).json()["likes"] == 120
