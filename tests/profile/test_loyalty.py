"""The points ledger's invariants, referrals that pay when the referred lead buys."""

import asyncio

import pytest
from pydantic import ValidationError

from services.profile.config import DEFAULT_REFERRAL_LINK_BASE, ProfileSettings
from shared.auth import Caller, CallerKind, StaffRole
from tests.profile.conftest import create_owner, owner_caller, settings_replaced

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


async def referred_friend(client_as, admin, dealer_caller, code: str, referrer_id: str) -> str:
    """A friend (an owner of their own) leaves a lead with the code; returns the friend's id."""
    friend_id = await create_owner(admin)
    lead = await client_as(owner_caller(friend_id)).post(
        "/leads",
        json={"dealer_id": str(dealer_caller.dealer_id), "model": "ET5", "referral_code": code},
    )
    assert lead.status_code == 201, lead.text
    assert lead.json()["referrer_owner_id"] == referrer_id
    return friend_id


async def deliver_car(dealer, owner_id: str) -> None:
    order = (await dealer.post("/orders", json={"owner_id": owner_id, "model": "ET5"})).json()
    delivered = await dealer.post(f"/orders/{order['id']}/status", json={"status": "delivered"})
    assert delivered.status_code == 200, delivered.text


async def referral_entries(client_as, referrer_id: str) -> list[tuple[str, int]]:
    referrer = client_as(owner_caller(referrer_id))
    points = (await referrer.get(f"/owners/{referrer_id}/points")).json()
    return [(e["cause"], e["points"]) for e in points["entries"]]


async def test_a_referred_lead_that_buys_earns_the_referrer_points(client_as, admin, dealer_a):
    dealer = client_as(dealer_a)
    referrer_id = await create_owner(dealer)
    code = (
        await client_as(owner_caller(referrer_id)).get(f"/owners/{referrer_id}/referral-code")
    ).json()["code"]
    friend_id = await referred_friend(client_as, admin, dealer_a, code, referrer_id)
    own_code = await client_as(owner_caller(referrer_id)).post(
        "/leads", json={"dealer_id": str(dealer_a.dealer_id), "referral_code": code}
    )
    assert own_code.status_code == 422

    assert await referral_entries(client_as, referrer_id) == []
    await deliver_car(dealer, friend_id)
    assert await referral_entries(client_as, referrer_id) == [("referral", 1000)]
    referrer = client_as(owner_caller(referrer_id))
    view = (await referrer.get(f"/owners/{referrer_id}/360")).json()
    assert view["lifecycle"]["stage"] == "loyalty"


async def test_the_referral_link_carries_the_owners_code_and_credits_them(
    client_as, admin, dealer_a, profile_app
):
    referrer_id = await create_owner(client_as(dealer_a))
    referrer = client_as(owner_caller(referrer_id))
    with settings_replaced(profile_app, referral_link_base="https://brand.example/r/"):
        shared = (await referrer.get(f"/owners/{referrer_id}/referral-code")).json()
    assert shared["link"] == f"https://brand.example/r/{shared['code']}"
    default = (await referrer.get(f"/owners/{referrer_id}/referral-code")).json()
    assert default["link"] == f"{DEFAULT_REFERRAL_LINK_BASE}/{shared['code']}"

    code_from_link = shared["link"].rsplit("/", 1)[1]
    friend_id = await referred_friend(client_as, admin, dealer_a, code_from_link, referrer_id)
    await deliver_car(client_as(dealer_a), friend_id)
    assert await referral_entries(client_as, referrer_id) == [("referral", 1000)]


@pytest.mark.parametrize(
    "base",
    ["app.cem.example.com/referrals", "ftp://cem.example.com/r", "https://", "https:///r",
     "https://cem.example.com/r?ref=", "https://cem.example.com/r#code"],
)  # fmt: skip
def test_the_referral_link_base_must_be_a_web_address_the_code_can_end(base):
    with pytest.raises(ValidationError, match="CEM_REFERRAL_LINK_BASE"):
        ProfileSettings(referral_link_base=base)


def test_the_referral_link_base_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CEM_REFERRAL_LINK_BASE", "http://127.0.0.1:3000/referrals/")
    assert ProfileSettings().referral_link_base == "http://127.0.0.1:3000/referrals"


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
