"""Dealer-group credentials: the caller the gateway forwards for a group's key sees the
records of every dealer in the group and of no other; the hierarchy's changes are events."""

import uuid

from tests.helpers import dealer_group_caller
from tests.profile.conftest import create_dealer, dms_batch, events_after, last_seq

RESOURCES = ("owners", "vehicles", "orders", "service-visits", "leads")


async def create_group(admin, region: str = "East") -> str:
    body = {"code": f"G{uuid.uuid4().hex[:6]}", "name": "Grand Auto", "region": region}
    response = await admin.post("/dealer-groups", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def imported_owner(client) -> str:
    """One DMS import of the dealer's (an owner, a vehicle, an order, a visit); the owner."""
    assert (await client.post("/imports", json=dms_batch())).status_code == 200
    return (await client.get("/owners")).json()["items"][0]["id"]


async def records_of(client) -> dict[str, set[str]]:
    """A DMS import and a lead of the dealer's; the ids it then lists, per resource."""
    owner_id = await imported_owner(client)
    assert (await client.post("/leads", json={"owner_id": owner_id})).status_code == 201
    return {
        resource: {item["id"] for item in (await client.get(f"/{resource}")).json()["items"]}
        for resource in RESOURCES
    }


async def test_a_group_key_sees_every_dealer_of_its_group_and_no_other(client_as, admin):
    group_id = uuid.UUID(await create_group(admin))
    first, second, outsider = [await create_dealer(admin) for _ in range(3)]
    mine = [await records_of(client_as(dealer)) for dealer in (first, second)]
    theirs = await records_of(client_as(outsider))
    group = client_as(dealer_group_caller(first, second, group_id=group_id))

    for resource in RESOURCES:
        listed = {item["id"] for item in (await group.get(f"/{resource}")).json()["items"]}
        assert listed == mine[0][resource] | mine[1][resource], resource
        for record_id in mine[0][resource] | mine[1][resource]:
            assert (await group.get(f"/{resource}/{record_id}")).status_code == 200
        for record_id in theirs[resource]:
            assert (await group.get(f"/{resource}/{record_id}")).status_code == 404, resource
    dealers = {item["id"] for item in (await group.get("/dealers")).json()["items"]}
    assert dealers == {str(first.dealer_id), str(second.dealer_id)}
    assert (await group.get(f"/dealers/{outsider.dealer_id}")).status_code == 404
    owner_360 = await group.get(f"/owners/{next(iter(theirs['owners']))}/360")
    assert owner_360.status_code == 404


async def test_a_group_key_sees_its_own_group_only(client_as, admin):
    group_id, other_group = await create_group(admin), await create_group(admin)
    group = client_as(dealer_group_caller(group_id=uuid.UUID(group_id)))
    listed = [item["id"] for item in (await group.get("/dealer-groups")).json()["items"]]
    assert listed == [group_id]
    assert (await group.get(f"/dealer-groups/{other_group}")).status_code == 404


async def test_a_group_key_records_only_for_a_dealer_it_names_among_its_own(client_as, admin):
    first, outsider = await create_dealer(admin), await create_dealer(admin)
    owner_id = await imported_owner(client_as(first))
    group = client_as(dealer_group_caller(first))

    lead = await group.post(
        "/leads", json={"owner_id": owner_id, "dealer_id": str(first.dealer_id)}
    )
    assert lead.status_code == 201 and lead.json()["dealer_id"] == str(first.dealer_id)
    for dealer_id in (None, str(outsider.dealer_id)):
        refused = await group.post("/leads", json={"owner_id": owner_id, "dealer_id": dealer_id})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "body.dealer_id"
    # What becomes one dealer's needs that dealer's own key.
    assert (await group.post("/imports", json=dms_batch())).status_code == 403
    assert (await group.post("/owners", json={"full_name": "Zhao Lei"})).status_code == 403
    vehicle = {"vin": dms_batch()["vehicles"][0]["vin"], "model": "ET5"}
    assert (await group.post("/vehicles", json=vehicle)).status_code == 403


async def test_the_hierarchy_publishes_groups_and_dealers_moving_between_them(profile_app, admin):
    before = await last_seq(profile_app)
    group_id, next_group = await create_group(admin), await create_group(admin)
    dealer = await create_dealer(admin)
    path, changed = f"/dealers/{dealer.dealer_id}/group", "cem.profile.dealer.group_changed.v1"
    for target in (group_id, group_id, next_group, None):  # the repeat changes nothing
        assert (await admin.put(path, json={"group_id": target})).status_code == 200

    registered = await events_after(profile_app, before, "cem.profile.dealer_group.registered.v1")
    assert [event["group_id"] for event in registered] == [group_id, next_group]
    moves = [(e["previous_group_id"], e["group_id"]) for e in await events_after(
        profile_app, before, changed
    )]  # fmt: skip
    assert moves == [(None, group_id), (group_id, next_group), (next_group, None)]
