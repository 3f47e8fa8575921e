"""Leaving a household: the owner themselves, their dealer or customer service; announced
as joining is, so that journeys stop counting the owner with it; asked again, answered as
done; refused to everyone else. Erasure takes the owner out too."""

import uuid

from shared.auth import Caller, CallerKind, StaffRole
from tests.helpers import dealer_group_caller
from tests.profile.conftest import create_owner, events_after, last_seq, owner_caller, scalar

AGENT = Caller(kind=CallerKind.STAFF, subject="agent@test", roles=frozenset({StaffRole.CX_AGENT}))
MARKETING = Caller(kind=CallerKind.STAFF, subject="mk@test", roles=frozenset({StaffRole.MARKETING}))
MEMBERSHIP_CHANGED = "cem.profile.household.membership_changed.v1"


async def household_of(dealer, *owner_ids: str) -> str:
    response = await dealer.post("/households", json={"name": "Li", "owner_ids": list(owner_ids)})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def leave(client, household_id: str, owner_id: str):
    return client.delete(f"/households/{household_id}/members/{owner_id}")


async def changes_since(app, seq: int) -> list[tuple[str, str, bool]]:
    events = await events_after(app, seq, MEMBERSHIP_CHANGED)
    return [(e["household_id"], e["owner_id"], e["joined"]) for e in events]


def problem_fields(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


async def test_an_owner_leaves_their_household_once_and_hears_so_when_asking_again(
    client_as, dealer_a, profile_app
):
    dealer = client_as(dealer_a)
    partner, leaver = await create_owner(dealer), await create_owner(dealer)
    household = await household_of(dealer, partner, leaver)
    owner = client_as(owner_caller(leaver))
    before = await last_seq(profile_app)

    first = await leave(owner, household, leaver)
    assert first.status_code == 200, first.text
    assert first.json()["already_left"] is False
    assert await changes_since(profile_app, before) == [(household, leaver, False)]
    assert (await dealer.get(f"/households/{household}")).json()["member_ids"] == [partner]
    assert (await owner.get(f"/owners/{leaver}/360")).json()["household_id"] is None

    again = await leave(owner, household, leaver)
    assert again.status_code == 200, again.text
    assert again.json()["already_left"] is True
    assert again.json()["left_at"] == first.json()["left_at"]
    assert await changes_since(profile_app, before) == [(household, leaver, False)]
    assert (await dealer.get(f"/households/{household}")).json()["member_ids"] == [partner]
    # Out of it, the owner no longer sees who is in it.
    assert (await owner.get(f"/households/{household}")).status_code == 404


async def test_their_dealer_and_customer_service_take_an_owner_out_other_staff_may_not(
    client_as, dealer_a, profile_app
):
    dealer = client_as(dealer_a)
    members = [await create_owner(dealer) for _ in range(3)]
    household = await household_of(dealer, *members)
    outsider = await create_owner(dealer)
    before = await last_seq(profile_app)

    refused = await leave(client_as(MARKETING), household, members[0])
    assert refused.status_code == 403
    assert (await leave(dealer, household, members[0])).json()["already_left"] is False
    assert (await leave(client_as(AGENT), household, members[1])).json()["already_left"] is False
    never_in = await leave(dealer, household, outsider)
    assert never_in.status_code == 404
    assert never_in.json()["code"] == "household_member_not_found"
    assert problem_fields(never_in) == ["path.owner_id"]

    assert await changes_since(profile_app, before) == [
        (household, members[0], False),
        (household, members[1], False),
    ]
    assert (await dealer.get(f"/households/{household}")).json()["member_ids"] == [members[2]]


async def test_no_one_else_takes_an_owner_out_of_a_household(
    client_as, dealer_a, dealer_b, profile_app
):
    dealer = client_as(dealer_a)
    partner, member = await create_owner(dealer), await create_owner(dealer)
    household = await household_of(dealer, partner, member)
    stranger_owner = await create_owner(client_as(dealer_b))
    before = await last_seq(profile_app)

    for caller in (dealer_b, dealer_group_caller(dealer_b), owner_caller(stranger_owner)):
        for owner_id in (member, stranger_owner):
            refused = await leave(client_as(caller), household, owner_id)
            assert refused.status_code == 404, (caller.subject, refused.text)
            assert refused.json()["code"] == "household_not_found"
            assert problem_fields(refused) == ["path.household_id"]
    # A member of the same household may leave it, not take another out.
    by_partner = await leave(client_as(owner_caller(partner)), household, member)
    assert by_partner.status_code == 403
    assert problem_fields(by_partner) == ["path.owner_id"]
    unknown = await leave(dealer, str(uuid.uuid4()), member)
    assert unknown.status_code == 404 and problem_fields(unknown) == ["path.household_id"]

    assert await changes_since(profile_app, before) == []
    assert (await dealer.get(f"/households/{household}")).json()["member_ids"] == [partner, member]


async def test_erasure_takes_the_owner_out_of_their_household_and_forgets_earlier_leaving(
    client_as, dealer_a, profile_app
):
    dealer = client_as(dealer_a)
    partner, erased = await create_owner(dealer), await create_owner(dealer)
    earlier = await household_of(dealer, erased)
    assert (await leave(dealer, earlier, erased)).status_code == 200
    household = await household_of(dealer, partner, erased)
    before = await last_seq(profile_app)

    owner = client_as(owner_caller(erased))
    assert (await owner.post(f"/owners/{erased}/erasure-requests")).status_code == 202

    assert await changes_since(profile_app, before) == [(household, erased, False)]
    assert (await dealer.get(f"/households/{household}")).json()["member_ids"] == [partner]
    assert (await client_as(AGENT).get(f"/owners/{erased}/360")).json()["household_id"] is None
    departures = "SELECT count(*) FROM household_departures WHERE owner_id = :owner"
    assert await scalar(profile_app, departures, owner=uuid.UUID(erased)) == 0
