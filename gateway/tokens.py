"""Bearer JWTs for owners and staff: validation, and minting for local development.

Claims: `sub`, `aud`, `iss`, `exp`, `cem_kind` (owner | staff | service), `roles`
(staff roles) and `region` (an optional staff scope).
"""

import time
import uuid

import jwt

from gateway.config import GatewaySettings
from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden, Unauthorized

ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]


class TokenValidator:
    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None

    def caller(self, token: str) -> tuple[Caller, float]:
        """The token's caller and when the token expires."""
        try:
            claims = self._decode(token)
            return caller_from_claims(claims), float(claims["exp"])
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"Bearer token rejected: {error}") from error
        except (KeyError, ValueError) as error:
            raise Unauthorized("Bearer token has malformed claims") from error

    def _decode(self, token: str) -> dict:
        options = {"require": ["exp", "sub", "aud", "iss"]}
        common = {
            "audience": self._settings.jwt_audience,
            "issuer": self._settings.jwt_issuer,
            "options": options,
        }
        if self._jwks is not None:
            key = self._jwks.get_signing_key_from_jwt(token).key
            return jwt.decode(token, key, algorithms=ASYMMETRIC_ALGORITHMS, **common)
        secret = self._settings.jwt_secret.get_secret_value()
        return jwt.decode(token, secret, algorithms=["HS256"], **common)


def caller_from_claims(claims: dict) -> Caller:
    kind = CallerKind(claims["cem_kind"])
    if kind is CallerKind.OWNER:
        return Caller(kind=kind, subject=claims["sub"], owner_id=uuid.UUID(claims["sub"]))
    if kind is CallerKind.STAFF:
        roles = frozenset(StaffRole(role) for role in claims.get("roles", []))
        return Caller(kind=kind, subject=claims["sub"], roles=roles, region=claims.get("region"))
    if kind is CallerKind.SERVICE:
        return Caller(kind=kind, subject=claims["sub"])
    raise ValueError(f"tokens cannot carry kind {kind}")


def mint_development_token(
    settings: GatewaySettings,
    *,
    kind: CallerKind,
    subject: str,
    roles: tuple[StaffRole, ...] = (),
    region: str | None = None,
    ttl_seconds: int = 12 * 3600,
) -> str:
    """HS256 token for local use; refused outside development environments."""
    if not settings.environment.is_development:
        raise Forbidden("Development tokens are refused outside the local environment")
    now = int(time.time())
    claims = {
        "sub": subject,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + ttl_seconds,
        "cem_kind": kind.value,
        "roles": [role.value for role in roles],
    }
    if region:
        claims["region"] = region
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
