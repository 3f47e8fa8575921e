"""Scenario 7, super users: an owner who posts often in the community, whose posts draw
engagement and who would recommend us (NPS 9-10) enters the super-user segment, is tagged and
earns points for the engagement and the recognition; an equally active owner with a low NPS
does not enter it."""

from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import ADMIN
from tests.e2e.support import (
    COMMUNITY_CONNECTOR,
    answer,
    dealer_in,
    getter,
    ok,
    owner_with_car,
    segments_of,
    survey_with_trigger,
    unique,
    wait_for,
)

POSTS, LIKES = 3, 10


async def active_in_the_community(gateway, owner) -> list[str]:
    """Three posts through the community connector, and what the app reports of them: each
    post created, and the likes they drew."""
    now = datetime.now(UTC)
    posts = [
        {"source": "community", "source_id": unique("post"), "owner_id": owner.id,
         "body": f"Road trip diary, day {day}: 600 km on one charge with the new update!",
         "likes": LIKES, "comments": 4, "published_at": (now - timedelta(days=day)).isoformat()}
        for day in range(1, POSTS + 1)
    ]  # fmt: skip
    ingested = ok(await gateway.post("/v1/feedback/posts/batches", json={"posts": posts},
                                     headers=COMMUNITY_CONNECTOR))  # fmt: skip
    assert ingested["created"] == POSTS and ingested["flagged"] == 0
    events = []
    for post in posts:
        at = post["published_at"]
        events.append({"type": "community_post_created", "occurred_at": at,
                       "properties": {"post_id": post["source_id"]}})  # fmt: skip
        events += [
            {"type": "community_post_engaged", "occurred_at": at,
             "properties": {"post_id": post["source_id"], "engagement": "like"}}
            for _ in range(LIKES // POSTS + 1)
        ]  # fmt: skip
    accepted = ok(await gateway.post("/v1/profile/events", json={"events": events},
                                     headers=owner.headers), 202)  # fmt: skip
    assert accepted["accepted"] == len(events)
    return [post["source_id"] for post in posts]


async def recommends(gateway, owner, score: int) -> None:
    invite = {"survey_key": "delivery_nps", "owner_id": owner.id, "touchpoint": "order_delivered"}
    invitation = ok(await gateway.post("/v1/feedback/invitations", json=invite, headers=ADMIN),
                    201)  # fmt: skip
    await answer(gateway, invitation, owner, score, "Love the car and the community.")


async def test_an_engaged_promoter_becomes_a_super_user_with_points(gateway):
    await survey_with_trigger(gateway, key="delivery_nps", kind="nps", touchpoint="order_delivered")
    dealer = await dealer_in(gateway, unique("City"))
    fan, critic = await owner_with_car(gateway, dealer), await owner_with_car(gateway, dealer)
    for owner, score in ((fan, 10), (critic, 6)):
        await active_in_the_community(gateway, owner)
        await recommends(gateway, owner, score)

    segments = await wait_for(lambda: segments_of(gateway, fan), lambda s: "super_user" in s)
    assert "super_user" in segments
    points = await wait_for(
        getter(gateway, f"/v1/profile/owners/{fan.id}/points", fan.headers),
        lambda body: body and any(e["cause"] == "super_user" for e in body["entries"]),
    )
    causes = {entry["cause"] for entry in points["entries"]}
    assert {"community_engagement", "survey_answer", "super_user"} <= causes
    assert points["balance"] == sum(entry["points"] for entry in points["entries"]) > 500
    profile = ok(await gateway.get(f"/v1/profile/owners/{fan.id}/360", headers=ADMIN))
    assert "super_user" in str(profile["tags"])

    critic_points = await wait_for(
        getter(gateway, f"/v1/profile/owners/{critic.id}/points", critic.headers),
        lambda body: body and any(e["cause"] == "survey_answer" for e in body["entries"]),
    )
    assert "super_user" not in {entry["cause"] for entry in critic_points["entries"]}
    assert "super_user" not in await segments_of(gateway, critic)
