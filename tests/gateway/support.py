"""Credentials and checks the gateway tests share."""

import time

import httpx
import jwt

from shared.auth import INTERNAL_AUDIENCE
from shared.config import DEV_INTERNAL_SECRET, DEV_JWT_SECRET

OWNER_ID = "7f1b8e0c-3c2a-4c8e-9a57-1f6f0b2d9e11"


def owner_claims(**overrides) -> dict:
    return {
        "sub": OWNER_ID,
        "aud": "cem",
        "iss": "cem-local",
        # A day: modules build their tokens when collected, long before a full suite runs them.
        "exp": int(time.time()) + 86_400,
        "cem_kind": "owner",
        **overrides,
    }


def token(key: str | None = DEV_JWT_SECRET, algorithm: str = "HS256", **overrides) -> str:
    """A bearer token as an identity provider would issue it (by default a valid owner's)."""
    return jwt.encode(owner_claims(**overrides), key, algorithm=algorithm)


def forwarded_caller(response: httpx.Response) -> dict:
    """The caller the echo upstream received, checked as a service checks it."""
    forwarded = response.json()["headers"]["x-cem-caller"]
    claims = jwt.decode(
        forwarded, DEV_INTERNAL_SECRET, algorithms=["HS256"], audience=INTERNAL_AUDIENCE
    )
    return claims["caller"]
