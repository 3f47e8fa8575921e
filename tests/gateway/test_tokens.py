"""Bearer tokens the gateway refuses, and the callers it forwards for the ones it accepts."""

import time

import pytest

from tests.gateway.support import OWNER_ID, forwarded_caller, token

BAD_TOKENS = {
    "bad-signature": token(key="some-other-secret-of-enough-length-000"),
    "wrong-audience": token(aud="someone-else"),
    "wrong-issuer": token(iss="someone-else"),
    "expired": token(exp=int(time.time()) - 10),
    "not-yet-valid": token(nbf=int(time.time()) + 3600),
    "alg-none": token(key=None, algorithm="none"),
    "dealer-kind": token(cem_kind="dealer"),
    "garbage": "not-a-jwt",
}


@pytest.mark.parametrize("bad_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_bad_tokens_are_refused(gateway, bad_token):
    response = await gateway.http.get(
        "/v1/echo/x", headers={"Authorization": f"Bearer {bad_token}"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


async def test_no_credentials_is_401(gateway):
    response = await gateway.http.get("/v1/echo/x")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_owner_token_is_forwarded_as_that_owner(gateway):
    response = await gateway.http.get("/v1/echo/x", headers={"Authorization": f"Bearer {token()}"})
    caller = forwarded_caller(response)
    assert (caller["kind"], caller["owner_id"]) == ("owner", OWNER_ID)


async def test_a_staff_token_carries_roles_and_region(gateway):
    staff = token(cem_kind="staff", sub="agent@test", roles=["cx_agent"], region="East")
    response = await gateway.http.get("/v1/echo/x", headers={"Authorization": f"Bearer {staff}"})
    caller = forwarded_caller(response)
    assert (caller["kind"], caller["roles"], caller["region"]) == ("staff", ["cx_agent"], "East")
