"""Who is calling: the caller model and the gateway-signed token that carries it.

The gateway authenticates the outside world (dealer keys, owner and staff JWTs) and
forwards the result to services as a short-lived HS256 token in `x-cem-caller`.
Services verify that token on every request and never trust a bare header.
"""

import time
import uuid
from enum import StrEnum
from functools import lru_cache

import jwt
from pydantic import BaseModel, ConfigDict

from shared.errors import Forbidden, Unauthorized

CALLER_HEADER = "x-cem-caller"
INTERNAL_AUDIENCE = "cem-internal"
INTERNAL_ISSUER = "cem-gateway"


class CallerKind(StrEnum):
    OWNER = "owner"
    DEALER = "dealer"
    STAFF = "staff"
    SERVICE = "service"


class StaffRole(StrEnum):
    CX_AGENT = "cx_agent"
    QUALITY_ENGINEER = "quality_engineer"
    MARKETING = "marketing"
    ADMIN = "admin"


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: CallerKind
    subject: str
    owner_id: uuid.UUID | None = None
    dealer_id: uuid.UUID | None = None
    roles: frozenset[StaffRole] = frozenset()
    region: str | None = None

    def require_staff(self, *roles: StaffRole) -> None:
        """Admins pass every staff check; others need one of `roles`."""
        if self.kind is not CallerKind.STAFF:
            raise Forbidden("This operation is for staff")
        if StaffRole.ADMIN in self.roles or self.roles.intersection(roles):
            return
        raise Forbidden(f"Requires one of the roles: {', '.join(sorted(roles)) or 'admin'}")

    @property
    def is_staff(self) -> bool:
        return self.kind is CallerKind.STAFF


def sign_caller(caller: Caller, secret: str, *, ttl_seconds: int = 60) -> str:
    now = int(time.time())
    claims = {
        "iss": INTERNAL_ISSUER,
        "aud": INTERNAL_AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
        "caller": caller.model_dump(mode="json", exclude_none=True),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class CallerVerifier:
    """Verifies internal caller tokens; a small cache spares repeated signature checks."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._verify_cached = lru_cache(maxsize=4096)(self._verify)

    def verify(self, token: str | None) -> Caller:
        if not token:
            raise Unauthorized("Requests must come through the gateway")
        caller, expires_at = self._verify_cached(token)
        if expires_at <= time.time():
            raise Unauthorized("The caller token has expired")
        return caller

    def _verify(self, token: str) -> tuple[Caller, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=INTERNAL_AUDIENCE,
                issuer=INTERNAL_ISSUER,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
            return Caller.model_validate(claims["caller"]), float(claims["exp"])
        except (jwt.InvalidTokenError, KeyError, ValueError) as error:
            raise Unauthorized("The caller token is not valid") from error
