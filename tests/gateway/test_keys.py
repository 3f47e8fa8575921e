"""Dealer API keys: issued once, stored as HMAC, two active at most, dead at once when revoked."""

import re
import uuid

import pytest

from gateway import keys
from gateway.auth import Authenticator
from shared.auth import CallerKind, StaffRole
from shared.errors import Unauthorized
from tests.gateway.support import forwarded_caller
from tests.helpers import eventually


async def test_an_issued_key_reaches_the_service_as_its_dealer(gateway):
    dealer_id = await gateway.known_dealer()
    issued = await gateway.issue_key(dealer_id)
    assert issued["key"].startswith(f"cem_{issued['id']}_")

    response = await gateway.http.get("/v1/echo/owners", headers={"X-API-Key": issued["key"]})
    assert response.status_code == 200
    caller = forwarded_caller(response)
    assert (caller["kind"], caller["dealer_id"]) == ("dealer", str(dealer_id))
    forwarded = response.json()["headers"]
    assert "x-api-key" not in forwarded and "authorization" not in forwarded


async def test_authorization_apikey_scheme_is_accepted(gateway):
    issued = await gateway.issue_key(await gateway.known_dealer())
    response = await gateway.http.get(
        "/v1/echo/x", headers={"Authorization": f"ApiKey {issued['key']}"}
    )
    assert response.status_code == 200


async def test_listing_never_shows_secrets_or_hashes(gateway):
    dealer_id = await gateway.known_dealer()
    issued = await gateway.issue_key(dealer_id)
    listing = await gateway.http.get(f"/v1/gateway/dealers/{dealer_id}/keys", headers=gateway.admin)
    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["items"]] == [issued["id"]]
    text = listing.text
    secret = keys.parse(issued["key"]).secret
    assert secret not in text and "secret_hash" not in text and '"key"' not in text


async def test_a_revoked_key_is_refused_at_once(gateway):
    issued = await gateway.issue_key(await gateway.known_dealer())
    headers = {"X-API-Key": issued["key"]}
    assert (await gateway.http.get("/v1/echo/x", headers=headers)).status_code == 200

    revoked = await gateway.http.post(
        f"/v1/gateway/keys/{issued['id']}/revoke", headers=gateway.admin
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = await gateway.http.get("/v1/echo/x", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert "www-authenticate" in refused.headers


async def test_rotation_replaces_the_key_at_once(gateway):
    old = await gateway.issue_key(await gateway.known_dealer())
    assert (
        await gateway.http.get("/v1/echo/x", headers={"X-API-Key": old["key"]})
    ).status_code == 200

    rotated = await gateway.http.post(f"/v1/gateway/keys/{old['id']}/rotate", headers=gateway.admin)
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["replaces"] == old["id"] and new["key"] != old["key"]
    assert (
        await gateway.http.get("/v1/echo/x", headers={"X-API-Key": old["key"]})
    ).status_code == 401
    assert (
        await gateway.http.get("/v1/echo/x", headers={"X-API-Key": new["key"]})
    ).status_code == 200


async def test_a_revocation_reaches_every_replica(make_gateway):
    first, second = await make_gateway(), await make_gateway()
    issued = await first.issue_key(await first.known_dealer())
    headers = {"X-API-Key": issued["key"]}
    assert (await second.http.get("/v1/echo/x", headers=headers)).status_code == 200  # now cached

    await first.http.post(f"/v1/gateway/keys/{issued['id']}/revoke", headers=first.admin)

    async def refused_by_second() -> bool:
        return (await second.http.get("/v1/echo/x", headers=headers)).status_code == 401

    await eventually(refused_by_second, within_seconds=5)


async def test_a_third_active_key_is_a_conflict(gateway):
    dealer_id = await gateway.known_dealer()
    await gateway.issue_key(dealer_id)
    await gateway.issue_key(dealer_id)
    third = await gateway.http.post(f"/v1/gateway/dealers/{dealer_id}/keys", headers=gateway.admin)
    assert third.status_code == 409
    assert third.json()["code"] == "too_many_active_keys"


async def test_keys_for_an_unknown_dealer_are_404(gateway):
    response = await gateway.http.post(
        f"/v1/gateway/dealers/{uuid.uuid4()}/keys", headers=gateway.admin
    )
    assert response.status_code == 404


async def test_only_admins_manage_keys(gateway):
    dealer_id = await gateway.known_dealer()
    issued = await gateway.issue_key(dealer_id)
    agent = gateway.bearer(CallerKind.STAFF, "agent@test", StaffRole.CX_AGENT)
    for headers in (agent, {"X-API-Key": issued["key"]}):
        response = await gateway.http.post(f"/v1/gateway/dealers/{dealer_id}/keys", headers=headers)
        assert response.status_code == 403


async def test_a_wrong_secret_for_a_real_key_id_is_refused(gateway):
    issued = await gateway.issue_key(await gateway.known_dealer())
    forged = keys.IssuedKey(key_id=issued["id"], secret="A" * keys.SECRET_LENGTH).token
    assert keys.parse(forged) is not None  # well formed: only the stored HMAC refuses it
    assert (await gateway.http.get("/v1/echo/x", headers={"X-API-Key": forged})).status_code == 401


async def test_an_issued_key_is_shaped_for_secret_scanners(gateway):
    issued = await gateway.issue_key(await gateway.known_dealer())
    assert re.fullmatch(r"cem_[0-9a-f]{12}_[0-9A-Za-z]{49}", issued["key"])
    assert keys.parse(issued["key"]) is not None


def test_every_single_character_typo_breaks_the_checksum():
    token = keys.new_key().token
    start = len("cem_")
    for position in range(start, len(token)):
        for replacement in "0aZ":
            typo = token[:position] + replacement + token[position + 1 :]
            if typo != token:
                assert keys.parse(typo) is None, (position, replacement)


async def test_a_bad_checksum_is_refused_before_any_lookup(gateway):
    """An authenticator with no database at all: reaching for one would fail differently."""
    issued = await gateway.issue_key(await gateway.known_dealer())
    bad_checksum = issued["key"][:-1] + ("B" if issued["key"][-1] == "A" else "A")
    unbound = Authenticator(gateway.settings)
    with pytest.raises(Unauthorized, match="checksum"):
        await unbound.authenticate(api_key=bad_checksum, bearer=None)
    response = await gateway.http.get("/v1/echo/x", headers={"X-API-Key": bad_checksum})
    assert response.status_code == 401 and "checksum" in response.json()["detail"]


async def test_a_key_check_overtaken_by_a_key_change_is_used_once_not_kept(gateway):
    """A revocation heard while the key was being checked: the check may predate it."""
    issued = await gateway.issue_key(await gateway.known_dealer())
    checks = 0

    class ChangeArrivesMidCheck(Authenticator):
        async def _validate(self, api_key, bearer, now):
            nonlocal checks
            checks += 1
            known = await super()._validate(api_key, bearer, now)
            if checks == 1:
                self.forget_key(issued["id"])  # as the NOTIFY would, between read and remember
            return known

    authenticator = ChangeArrivesMidCheck(gateway.settings)
    authenticator.bind(gateway.app.inner.state.database)
    for _ in range(3):
        await authenticator.authenticate(api_key=issued["key"], bearer=None)
    assert checks == 2  # checked again after the overtaken check, then served from memory
