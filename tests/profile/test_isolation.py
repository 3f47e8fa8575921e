"""A dealer sees only its own records; an owner only their own; another's id is a 404."""

import pytest

from shared.auth import Caller, CallerKind
from tests.helpers import dealer_group_caller
from tests.profile.conftest import create_owner, dms_batch, owner_caller
from tests.security.allow_table import allowed

RESOURCES = ("owners", "vehicles", "orders", "service-visits")


async def import_for(client) -> dict[str, str]:
    response = await client.post("/imports", json=dms_batch())
    assert response.status_code == 200, response.text
    ids = {}
    for resource in RESOURCES:
        listing = (await client.get(f"/{resource}")).json()
        ids[resource] = [item["id"] for item in listing["items"]]
    return ids


async def test_dealers_see_only_their_own_records(client_as, dealer_a, dealer_b):
    a, b = client_as(dealer_a), client_as(dealer_b)
    ids_a, ids_b = await import_for(a), await import_for(b)

    for resource in RESOURCES:
        assert len(ids_a[resource]) == 1 and len(ids_b[resource]) == 1
        assert set(ids_a[resource]).isdisjoint(ids_b[resource])
        for other_id in ids_b[resource]:
            response = await a.get(f"/{resource}/{other_id}")
            assert response.status_code == 404, (resource, response.text)
            assert response.json()["code"].endswith("not_found")
        for own_id in ids_a[resource]:
            assert (await a.get(f"/{resource}/{own_id}")).status_code == 200

    assert (await a.get(f"/dealers/{dealer_b.dealer_id}")).status_code == 404
    dealers = (await a.get("/dealers")).json()
    assert [d["id"] for d in dealers["items"]] == [str(dealer_a.dealer_id)]


async def test_a_dealer_cannot_move_another_dealers_order(client_as, dealer_a, dealer_b):
    await import_for(client_as(dealer_b))
    order_b = (await client_as(dealer_b).get("/orders")).json()["items"][0]
    response = await client_as(dealer_a).post(
        f"/orders/{order_b['id']}/status", json={"status": "delivered"}
    )
    assert response.status_code == 404
    assert (await client_as(dealer_b).get(f"/orders/{order_b['id']}")).json()[
        "status"
    ] == "in_transit"


async def test_an_owner_sees_only_their_own_records(client_as, dealer_a, dealer_b):
    ids_a, ids_b = await import_for(client_as(dealer_a)), await import_for(client_as(dealer_b))
    owner_id = ids_a["owners"][0]
    owner = client_as(Caller(kind=CallerKind.OWNER, subject=owner_id, owner_id=owner_id))

    for resource in RESOURCES:
        listing = (await owner.get(f"/{resource}")).json()
        assert [item["id"] for item in listing["items"]] == ids_a[resource], resource
        assert (await owner.get(f"/{resource}/{ids_b[resource][0]}")).status_code == 404
    assert (await owner.get(f"/dealers/{dealer_a.dealer_id}")).status_code == 200
    assert (await owner.get(f"/dealers/{dealer_b.dealer_id}")).status_code == 404


async def test_regional_staff_see_only_their_region(client_as, admin):
    from tests.profile.conftest import create_dealer

    east, west = (
        await create_dealer(admin, region="East"),
        await create_dealer(admin, region="West"),
    )
    await import_for(client_as(east))
    west_ids = await import_for(client_as(west))
    east_staff = client_as(
        Caller(
            kind=CallerKind.STAFF, subject="cx@east", roles=frozenset({"cx_agent"}), region="East"
        )
    )
    for resource in RESOURCES:
        assert (await east_staff.get(f"/{resource}/{west_ids[resource][0]}")).status_code == 404
    regions = {d["region"] for d in (await east_staff.get("/dealers?limit=200")).json()["items"]}
    assert regions == {"East"}


@pytest.mark.parametrize("path", ["/owners", "/dealers", "/orders"])
async def test_requests_without_a_gateway_token_are_refused(client_as, path):
    response = await client_as(None).get(path)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_forged_caller_token_is_refused(profile_app):
    import httpx

    from shared.auth import sign_caller

    forged = sign_caller(
        Caller(kind=CallerKind.STAFF, subject="x", roles=frozenset({"admin"})),
        "not-the-internal-secret-at-all-0123456789",
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=profile_app), base_url="http://profile"
    ) as client:
        response = await client.get("/v1/profile/owners", headers={"x-cem-caller": forged})
    assert response.status_code == 401


CONSENT = {"purpose": "marketing", "channel": "sms", "granted": True, "notice_version": "v1"}
# Every profile route about one owner, their car and their household; a body names the
# stranger's own owner ({own}), so only the scope can refuse it.
OWNERS_RESOURCES = [
    ("GET", "/owners/{owner_id}/events", None),
    ("GET", "/owners/{owner_id}/consents", None),
    ("PUT", "/owners/{owner_id}/consents", CONSENT),
    ("GET", "/owners/{owner_id}/360", None),
    ("GET", "/owners/{owner_id}/points", None),
    ("POST", "/owners/{owner_id}/points/redemptions", {"points": 1, "coupon": "x", "id": "r1"}),
    ("GET", "/owners/{owner_id}/referral-code", None),
    ("GET", "/owners/{owner_id}/segments", None),
    ("POST", "/owners/{owner_id}/contact-verifications",
     {"kind": "email", "value": "li.wei@example.com"}),
    ("POST", "/owners/{owner_id}/erasure-requests", None),
    ("GET", "/owners/{owner_id}/export", None),
    ("GET", "/owners/{owner_id}/duplicates", None),
    ("GET", "/owners/{owner_id}/audit", None),
    ("POST", "/owners/{owner_id}/merges", {"merged_owner_id": "{own}", "reason": "same person"}),
    ("GET", "/vehicles/{vehicle_id}/roles", None),
    ("POST", "/vehicles/{vehicle_id}/ownership",
     {"owner_id": "{own}", "effective_from": "2026-06-01"}),
    ("POST", "/vehicles/{vehicle_id}/drivers",
     {"owner_id": "{own}", "role": "secondary_driver", "effective_from": "2026-06-01"}),
    ("POST", "/vehicles/{vehicle_id}/roles/{role_id}/end", {"effective_to": "2026-07-01"}),
    ("GET", "/households/{household_id}", None),
    ("POST", "/households/{household_id}/members", {"owner_id": "{own}"}),
    ("DELETE", "/households/{household_id}/members/{owner_id}", None),
]  # fmt: skip


async def owner_with_car_driver_and_household(client_as, dealer) -> dict[str, str]:
    client = client_as(dealer)
    owner_id = (await import_for(client))["owners"][0]
    vehicle_id = (await client.get("/vehicles")).json()["items"][0]["id"]
    driver = {"owner_id": await create_owner(client), "role": "primary_driver",
              "effective_from": "2026-02-01"}  # fmt: skip
    roles = (await client.post(f"/vehicles/{vehicle_id}/drivers", json=driver)).json()
    household = await client.post("/households", json={"name": "Li", "owner_ids": [owner_id]})
    return {
        "owner_id": owner_id,
        "vehicle_id": vehicle_id,
        "role_id": next(r["id"] for r in roles if r["role"] == "primary_driver"),
        "household_id": household.json()["id"],
    }


async def test_every_owner_resource_is_hidden_from_another_dealer_group_and_owner(
    client_as, dealer_a, dealer_b
):
    ids = await owner_with_car_driver_and_household(client_as, dealer_a)
    dealer = client_as(dealer_a)
    roles_before = (await dealer.get("/vehicles/{vehicle_id}/roles".format(**ids))).json()
    own = await create_owner(client_as(dealer_b))
    strangers = {
        "dealer": dealer_b,
        "dealer_group": dealer_group_caller(dealer_b),
        "owner": owner_caller(own),
    }
    leaks = []
    for role, caller in strangers.items():
        for method, route, body in OWNERS_RESOURCES:
            path = route.format(**ids)
            body = {k: v.replace("{own}", own) if isinstance(v, str) else v
                    for k, v in body.items()} if body else None  # fmt: skip
            response = await client_as(caller).request(method, path, json=body)
            expected = {404} if allowed(method, f"/v1/profile{route}", role) else {403, 404}
            if response.status_code not in expected:
                leaks.append(f"{role} {method} {path}: {response.status_code}, not {expected}")
    assert not leaks, "\n".join(leaks)

    # None of the refused writes changed anything of the owner's.
    owner = client_as(owner_caller(ids["owner_id"]))
    assert (await owner.get("/owners/{owner_id}/consents".format(**ids))).json()["history"] == []
    assert (await owner.get("/owners/{owner_id}".format(**ids))).json()["full_name"] == "Li Wei"
    assert (await dealer.get("/vehicles/{vehicle_id}/roles".format(**ids))).json() == roles_before
    household = (await dealer.get("/households/{household_id}".format(**ids))).json()
    assert household["member_ids"] == [ids["owner_id"]]
