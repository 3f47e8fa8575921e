"""A dealer group's key works the cases of every dealer in its group and of no other."""

from tests.helpers import dealer_group_caller
from tests.tickets.conftest import new_dealer

CASE = {"kind": "inquiry", "subject": "Charging port", "description": "Will not latch"}
HOURS = {"time_zone": "Asia/Shanghai", "weekly_hours": {"mon": [["09:00", "18:00"]]}}


async def test_a_group_sees_and_works_the_cases_of_its_dealers_only(client_as):
    first, second, outsider = new_dealer(), new_dealer(), new_dealer()
    mine = [await client_as(dealer).open(**CASE) for dealer in (first, second)]
    theirs = await client_as(outsider).open(**CASE)
    group = client_as(dealer_group_caller(first, second))

    listed = {t["id"] for t in (await group.get("/tickets")).json()["items"]}
    assert listed == {case["id"] for case in mine}
    assert (await group.get(f"/tickets/{theirs['id']}")).status_code == 404
    refused = await group.post(f"/tickets/{theirs['id']}/comments", json={"body": "hi"})
    assert refused.status_code == 404
    moved = await group.move(mine[1]["id"], "acknowledged")
    assert moved.status_code == 200 and moved.json()["status"] == "acknowledged"


async def test_a_group_opens_cases_for_a_dealer_it_names_among_its_own(client_as):
    member, outsider = new_dealer(), new_dealer()
    group = client_as(dealer_group_caller(member))
    opened = await group.open(**CASE, dealer_id=str(member.dealer_id))
    assert opened["dealer_id"] == str(member.dealer_id)
    for dealer_id in (None, str(outsider.dealer_id)):
        response = await group.post("/tickets", json={**CASE, "dealer_id": dealer_id})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.dealer_id"


async def test_a_group_keeps_the_business_hours_of_its_dealers_only(client_as):
    member, outsider = new_dealer(), new_dealer()
    group = client_as(dealer_group_caller(member))
    assert (await group.put(f"/dealers/{member.dealer_id}/settings", json=HOURS)).status_code == 200
    assert (await group.get(f"/dealers/{member.dealer_id}/settings")).status_code == 200
    for call in (group.get, lambda path: group.put(path, json=HOURS)):
        assert (await call(f"/dealers/{outsider.dealer_id}/settings")).status_code == 404
