"""A dealer sees only its own records; an owner only their own; another's id is a 404."""

import pytest

from shared.auth import Caller, CallerKind
from tests.profile.conftest import dms_batch

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
