"""The points ledger's invariants, referrals that pay when the referred lead buys."""

import asyncio

from shared.auth import Caller, CallerKind, StaffRole
from tests.profile.conftest import create_owner, owner_caller

AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))


async def earn(client, owner_id: str, posts: int) -> None:
    events = [
        {"type": "community_post_created", "occurred_at": "2026-11-20T10:00:00Z",
         "properties": {"post_id": f"p{i}"}}
        for i in range(posts)
    ]  # fmt: skip
    assert (await client.post("/events", json={"events": events})).status_code == 202


async def test_the_balance_never_goes_negative_and_every_entry_has_its_cause(client_as, dealer_a):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    await earn(owner, owner_id, 3)
    too_much = await owner.post(
        f"/owners/{owner_id}/points/redemptions",
        json={"points": 31, "coupon": "Car wash", "id": "r1"},
    )
    assert too_much.status_code == 409
    assert too_much.json()["code"] == "insufficient_points"
    spent = await owner.post(
        f"/owners/{owner_id}/points/redemptions",
        json={"points": 25, "coupon": "Car wash", "id": "r2"},
    )
    retried = await owner.post(
        f"/owners/{owner_id}/points/redemptions",
        json={"points": 25, "coupon": "Car wash", "id": "r2"},
    )
    assert spent.json() == retried.json()
    ledger = retried.json()
    assert ledger["balance"] == 5
    assert [(e["cause"], e["points"], e["balance_after"]) for e in ledger["entries"]] == [
        ("community_engagement", 10, 10),
        ("community_engagement", 10, 20),
        ("community_engagement", 10, 30),
        ("redemption", -25, 5),
    ]
    assert all(e["reference"] and e["note"] for e in ledger["entries"])
    invalid = await owner.post(
        f"/owners/{owner_id}/points/redemptions", json={"points": 0, "coupon": "x", "id": "r3"}
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "body.points"


async def test_redemptions_at_the_same_moment_cannot_overspend(client_as, dealer_a):
    owner_id = await create_owner(client_as(dealer_a))
    owner = client_as(owner_caller(owner_id))
    await earn(owner, owner_id, 3)
    answers = await asyncio.gather(*(
        owner.post(f"/owners/{owner_id}/points/redemptions",
                   json={"points": 20, "coupon": "Charging credit", "id": f"phone-{n}"})
        for n in range(2)
    ))  # fmt: skip
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    ledger = (await owner.get(f"/owners/{owner_id}/points")).json()
    assert ledger["balance"] == 10
    assert [e["balance_after"] for e in ledger["entries"]] == [10, 20, 30, 10]


async def test_a_referred_lead_that_buys_earns_the_referrer_points(client_as, admin, dealer_a):
    dealer = client_as(dealer_a)
    referrer_id = await create_owner(dealer)
    friend_id = await create_owner(admin)
    code = (
        await client_as(owner_caller(referrer_id)).get(f"/owners/{referrer_id}/referral-code")
    ).json()["code"]
    friend = client_as(owner_caller(friend_id))
    lead = await friend.post(
        "/leads", json={"dealer_id": str(dealer_a.dealer_id), "model": "ET5", "referral_code": code}
    )
    assert lead.status_code == 201, lead.text
    assert lead.json()["referrer_owner_id"] == referrer_id
    own_code = await client_as(owner_caller(referrer_id)).post(
        "/leads", json={"dealer_id": str(dealer_a.dealer_id), "referral_code": code}
    )
    assert own_code.status_code == 422

    order = (await dealer.post("/orders", json={"owner_id": friend_id, "model": "ET5"})).json()
    referrer = client_as(owner_caller(referrer_id))
    assert (await referrer.get(f"/owners/{referrer_id}/points")).json()["balance"] == 0
    await dealer.post(f"/orders/{order['id']}/status", json={"status": "delivered"})
    points = (await referrer.get(f"/owners/{referrer_id}/points")).json()
    assert [(e["cause"], e["points"]) for e in points["entries"]] == [("referral", 1000)]
    view = (await referrer.get(f"/owners/{referrer_id}/360")).json()
    assert view["lifecycle"]["stage"] == "loyalty"


async def test_points_and_referral_codes_are_the_owners_own(client_as, dealer_a, dealer_b):
    owner_id = await create_owner(client_as(dealer_a))
    other = client_as(owner_caller(await create_owner(client_as(dealer_a))))
    assert (await other.get(f"/owners/{owner_id}/points")).status_code == 404
    assert (await other.get(f"/owners/{owner_id}/referral-code")).status_code == 404
    assert (await client_as(dealer_b).get(f"/owners/{owner_id}/points")).status_code == 404
    redeem = {"points": 1, "coupon": "x", "id": "r"}
    by_dealer = await client_as(dealer_a).post(
        f"/owners/{owner_id}/points/redemptions", json=redeem
    )
    assert by_dealer.status_code == 403
    assert (await client_as(AGENT).get(f"/owners/{owner_id}/referral-code")).status_code == 200
