"""Dealer-group keys: the gateway resolves a group to its dealers (as profile's events say
they are now) and forwards that set; a dealer that joins or leaves shows at once."""

import uuid
from datetime import UTC, datetime, timedelta

from gateway import service
from shared.auth import CallerKind, StaffRole
from shared.contracts.profile import DealerGroupChanged, DealerGroupRegistered
from tests.gateway.support import forwarded_caller
from tests.helpers import eventually

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def known_group(gateway) -> uuid.UUID:
    group_id = uuid.uuid4()
    event = DealerGroupRegistered(
        group_id=group_id, code=group_id.hex[:8], name="Test Group", region="East"
    )
    async with gateway.app.inner.state.database.transaction() as session:
        await service.record_dealer_group(session, event)
    return group_id


async def move(gateway, dealer_id, group_id, *, at: datetime = T0, code: str = "D1") -> None:
    """Applies profile's event as the gateway's consumer would."""
    event = DealerGroupChanged(
        dealer_id=dealer_id, code=code, name="Test Motors", region="East",
        group_id=group_id, changed_at=at,
    )  # fmt: skip
    async with gateway.app.inner.state.database.transaction() as session:
        await service.record_dealer_group_change(session, event)


async def issue_group_key(gateway, group_id: uuid.UUID) -> dict:
    response = await gateway.http.post(
        f"/v1/gateway/dealer-groups/{group_id}/keys", headers=gateway.admin
    )
    assert response.status_code == 201, response.text
    return response.json()


async def seen_dealers(gateway, key: str) -> set[str]:
    response = await gateway.http.get("/v1/echo/x", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return set(forwarded_caller(response).get("group_dealer_ids", []))


async def test_a_group_key_reaches_services_as_every_dealer_of_its_group(gateway):
    group_id = await known_group(gateway)
    first, second, outsider = [await gateway.known_dealer() for _ in range(3)]
    for dealer_id in (first, second):
        await move(gateway, dealer_id, group_id)
    await move(gateway, outsider, await known_group(gateway))
    issued = await issue_group_key(gateway, group_id)
    assert (issued["dealer_group_id"], issued["dealer_id"]) == (str(group_id), None)

    response = await gateway.http.get("/v1/echo/x", headers={"X-API-Key": issued["key"]})
    caller = forwarded_caller(response)
    assert caller["kind"] == "dealer" and "dealer_id" not in caller
    assert caller["dealer_group_id"] == str(group_id)
    assert set(caller["group_dealer_ids"]) == {str(first), str(second)}


async def test_a_dealer_joining_or_leaving_changes_what_the_key_sees_at_once(make_gateway):
    first, second = await make_gateway(), await make_gateway()
    group_id = await known_group(first)
    staying, joining = await first.known_dealer(), await first.known_dealer()
    await move(first, staying, group_id)
    key = (await issue_group_key(first, group_id))["key"]
    assert await seen_dealers(second, key) == {str(staying)}  # now cached by the replica

    await move(first, joining, group_id, at=T0 + timedelta(minutes=1))

    async def sees(expected: set) -> bool:
        return await seen_dealers(second, key) == expected

    await eventually(lambda: sees({str(staying), str(joining)}), within_seconds=5)
    await move(first, staying, None, at=T0 + timedelta(minutes=2))
    await eventually(lambda: sees({str(joining)}), within_seconds=5)


async def test_a_group_change_older_than_the_one_applied_is_ignored(gateway):
    old_group, new_group = await known_group(gateway), await known_group(gateway)
    dealer_id = await gateway.known_dealer()
    await move(gateway, dealer_id, new_group, at=T0 + timedelta(hours=1))
    await move(gateway, dealer_id, old_group, at=T0)  # redelivered late

    assert await seen_dealers(gateway, (await issue_group_key(gateway, new_group))["key"]) == {
        str(dealer_id)
    }
    assert await seen_dealers(gateway, (await issue_group_key(gateway, old_group))["key"]) == set()


async def test_a_group_change_before_the_dealer_is_known_records_the_dealer(gateway):
    """Profile's events reach the gateway in any order: the change carries the dealer."""
    group_id, dealer_id = await known_group(gateway), uuid.uuid4()
    await move(gateway, dealer_id, group_id, code=dealer_id.hex[:8])

    assert await seen_dealers(gateway, (await issue_group_key(gateway, group_id))["key"]) == {
        str(dealer_id)
    }
    assert (await gateway.issue_key(dealer_id))["dealer_id"] == str(dealer_id)


async def test_group_keys_are_listed_rotated_and_limited_like_dealer_keys(gateway):
    group_id = await known_group(gateway)
    first = await issue_group_key(gateway, group_id)
    await issue_group_key(gateway, group_id)
    third = await gateway.http.post(
        f"/v1/gateway/dealer-groups/{group_id}/keys", headers=gateway.admin
    )
    assert third.status_code == 409 and third.json()["code"] == "too_many_active_keys"

    rotated = await gateway.http.post(
        f"/v1/gateway/keys/{first['id']}/rotate", headers=gateway.admin
    )
    assert rotated.status_code == 200
    assert rotated.json()["dealer_group_id"] == str(group_id)
    listing = await gateway.http.get(
        f"/v1/gateway/dealer-groups/{group_id}/keys", headers=gateway.admin
    )
    assert len(listing.json()["items"]) == 3
    assert {item["dealer_group_id"] for item in listing.json()["items"]} == {str(group_id)}
    assert (
        await gateway.http.get("/v1/echo/x", headers={"X-API-Key": first["key"]})
    ).status_code == 401


async def test_group_keys_are_for_known_groups_and_issued_by_admins(gateway):
    unknown = await gateway.http.post(
        f"/v1/gateway/dealer-groups/{uuid.uuid4()}/keys", headers=gateway.admin
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "dealer_group_not_found"
    group_id = await known_group(gateway)
    agent = gateway.bearer(CallerKind.STAFF, "agent@test", StaffRole.CX_AGENT)
    group_key = {"X-API-Key": (await issue_group_key(gateway, group_id))["key"]}
    for headers in (agent, group_key):
        refused = await gateway.http.post(
            f"/v1/gateway/dealer-groups/{group_id}/keys", headers=headers
        )
        assert refused.status_code == 403


async def test_a_key_first_used_while_its_group_changes_sees_the_change_once_committed(gateway):
    group_id = await known_group(gateway)
    staying, joining = await gateway.known_dealer(), await gateway.known_dealer()
    await move(gateway, staying, group_id)
    event = DealerGroupChanged(
        dealer_id=joining, code="D2", name="Joining Motors", region="East",
        group_id=group_id, changed_at=T0 + timedelta(minutes=1),
    )  # fmt: skip
    async with gateway.app.inner.state.database.transaction() as session:
        await service.record_dealer_group_change(session, event)
        # Before the move commits, a key is issued and used: it sees the group as it was.
        key = (await issue_group_key(gateway, group_id))["key"]
        assert await seen_dealers(gateway, key) == {str(staying)}

    async def sees_the_joined_dealer() -> bool:
        return await seen_dealers(gateway, key) == {str(staying), str(joining)}

    await eventually(sees_the_joined_dealer, within_seconds=5)
