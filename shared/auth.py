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
    # A dealer-group credential: no dealer of its own, and every dealer of its group, as the
    # gateway resolved them from the hierarchy (region -> dealer group -> dealer).
    dealer_group_id: uuid.UUID | None = None
    group_dealer_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def visible_dealer_ids(self) -> frozenset[uuid.UUID]:
        """The dealers whose records a dealer-side caller sees: its own, or its group's.
        Empty for owners, staff and services, whom services scope otherwise."""
        if self.kind is not CallerKind.DEALER:
            return frozenset()
        if self.dealer_group_id is not None:
            return self.group_dealer_ids
        return frozenset({self.dealer_id}) if self.dealer_id else frozenset()

    def acting_dealer(self, named: uuid.UUID | None) -> uuid.UUID | None:
        """The dealer a dealer-side caller acts for: a dealer key's own (when it names none
        or itself), or the dealer a group key names among its own. None otherwise (another
        dealer's, or a group key naming none), for the service to refuse in its own words."""
        if named is None:
            return self.dealer_id if self.kind is CallerKind.DEALER else None
        return named if named in self.visible_dealer_ids else None

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
        "caller": caller.model_dump(mode="json", exclude_defaults=True),
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
