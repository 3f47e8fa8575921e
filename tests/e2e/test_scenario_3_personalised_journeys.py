"""Scenario 3, personalised journeys: owners are tagged from how they drive (the vehicle
gateway's signals): assisted driving and new in-car apps make a tech enthusiast, school and
supermarket runs a family user. An OTA release reaches the tech enthusiasts who consented to
marketing (held back in their quiet hours, stopped by the frequency cap); on the first
anniversary of their purchase, family users get a family-trip guide and a child-seat coupon."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conftest import ADMIN
from tests.e2e.support import (
    activate_journey,
    consent,
    dealer_in,
    decisions,
    inbox,
    install_journey,
    ok,
    owner_with_car,
    segments_of,
    send_signals,
    trip,
    unique,
    wait_for,
)

RELEASE = {
    "release_version": "5.2",
    "release_summary": "a new parking assistant",
    "article_link": "https://cem.test/ota/5.2",
    "beta_link": "https://cem.test/beta",
}


def driving(owner, *, tech: bool) -> list[dict]:
    """Three days of drives: with assisted driving and new apps, or to school and shops."""
    start = datetime.now(UTC) - timedelta(days=3)
    samples, odometer = [], 1_000.0
    for day, place in enumerate(("school", "supermarket", "school")):
        at = start + timedelta(days=day)
        if tech:
            apps = ("nomi_assistant", "karaoke", "game_center")
            samples += trip(owner.vin, at, odometer, 12.0, assisted=True, app=apps[day])
        else:
            samples += trip(owner.vin, at, odometer, 12.0, destination=place)
        odometer += 12.0
    return samples


def quiet_hours(around: bool) -> dict:
    """Quiet hours (UTC) that hold now, or that begin two hours from now."""
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1), now + timedelta(hours=1)) if around else (
        now + timedelta(hours=2), now + timedelta(hours=3)
    )  # fmt: skip
    return {"quiet_start": f"{start:%H:%M}", "quiet_end": f"{end:%H:%M}", "timezone": "UTC"}


async def in_preview(gateway, key: str, owners) -> None:
    """Journeys knows the owners' segments (from profile's events) before the journey starts."""
    path = f"/v1/journeys/definitions/{key}/versions/1/preview"

    async def sample() -> set[str]:
        return set(ok(await gateway.get(path, params={"sample": 100}, headers=ADMIN))["sample"])

    await wait_for(sample, lambda seen: {owner.id for owner in owners} <= seen)


async def marketing_cap_per_owner(gateway) -> int:
    policy = ok(await gateway.get("/v1/journeys/contact-policy", headers=ADMIN))
    return min(
        cap["limit"] for cap in policy["caps"]
        if cap["scope"] == "owner" and "marketing" in cap["categories"]
        and cap["channel"] in ("any", "app_push")
    )  # fmt: skip


async def templates(gateway, owner) -> list[str]:
    return sorted(message["template_key"] for message in await inbox(gateway, owner))


async def test_tech_enthusiasts_get_the_release_and_family_users_the_anniversary(gateway):
    dealer = await dealer_in(gateway, unique("City"))
    year_ago = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    year_ago = year_ago.replace(year=year_ago.year - 1)
    tech, night_owl, silent = [await owner_with_car(gateway, dealer) for _ in range(3)]
    # The anniversary journey holds 10% out: of five families, all five only once in 100,000
    # runs (of three, once in a thousand: a full run saw it).
    families = [
        await owner_with_car(gateway, dealer, delivery_date=year_ago.isoformat()) for _ in range(5)
    ]
    for owner in (tech, night_owl, silent, *families):
        await consent(gateway, owner, "location", "any")
        if owner is not silent:
            await consent(gateway, owner, "marketing", "app_push")
    for owner, around in ((tech, False), (night_owl, True)):
        ok(await gateway.put("/v1/journeys/preferences", json=quiet_hours(around),
                             headers=owner.headers))  # fmt: skip

    samples = [s for o in (tech, night_owl, silent) for s in driving(o, tech=True)]
    samples += [s for o in families for s in driving(o, tech=False)]
    await send_signals(gateway, samples)
    for owner in (tech, night_owl, silent):
        assert "tech_enthusiast" in await wait_for(
            lambda owner=owner: segments_of(gateway, owner), lambda s: "tech_enthusiast" in s
        )
    for family in families:
        segments = await wait_for(
            lambda family=family: segments_of(gateway, family), lambda s: "family_user" in s
        )
        assert "tech_enthusiast" not in segments

    release = await install_journey(gateway, "ota_release_tech_enthusiasts", activate=False)
    await in_preview(gateway, release, [tech, night_owl, silent])
    await activate_journey(gateway, release)
    run = ok(await gateway.post(f"/v1/journeys/definitions/{release}/runs",
                                json={"context": RELEASE}, headers=ADMIN), 201)  # fmt: skip
    assert run["entered"] >= 3

    article = await wait_for(lambda: inbox(gateway, tech), lambda items: items)
    assert [m["template_key"] for m in article] == ["ota_article"]  # the invitation: a day on
    assert "5.2" in article[0]["title"] and article[0]["link"] == RELEASE["article_link"]
    held = await wait_for(lambda: inbox(gateway, night_owl), lambda items: items)
    push = held[0]["deliveries"][0]
    assert push["channel"] == "app_push" and push["sent_at"] is None
    assert datetime.fromisoformat(push["not_before"]) > datetime.now(UTC)
    reasons = [d["reason"] for d in await decisions(gateway, night_owl, release)]
    assert "quiet_hours" in reasons
    await wait_for(
        lambda: decisions(gateway, silent, release),
        lambda log: [d["reason"] for d in log] == ["consent"],
    )
    assert await inbox(gateway, silent) == []

    # More releases this week: the owner's cap on marketing messages stops the extra ones.
    limit = await marketing_cap_per_owner(gateway)
    for _ in range(limit):
        ok(await gateway.post(f"/v1/journeys/definitions/{release}/runs",
                              json={"context": RELEASE}, headers=ADMIN), 201)  # fmt: skip
    log = await wait_for(
        lambda: decisions(gateway, tech, release),
        lambda log: any(d["reason"] == "cap_owner" for d in log),
    )
    assert [d["outcome"] for d in log].count("sent") == limit
    assert await templates(gateway, tech) == ["ota_article"] * limit

    anniversary = await install_journey(gateway, "purchase_anniversary_family", activate=False)
    await in_preview(gateway, anniversary, families)
    await activate_journey(gateway, anniversary)
    contacted = 0
    for family in families:
        log = await wait_for(lambda family=family: decisions(gateway, family, anniversary), bool)
        if [d["reason"] for d in log] == ["holdout"]:
            assert await templates(gateway, family) == []
            continue
        contacted += 1
        got = await wait_for(lambda family=family: templates(gateway, family),
                             lambda found: len(found) == 2)  # fmt: skip
        assert got == ["child_seat_coupon", "family_trip_guide"]
    assert contacted >= 1
    assert "family_trip_guide" not in await templates(gateway, tech)
