"""Bearer JWTs for owners and staff: validation, and minting for local development.

Claims: `sub`, `aud`, `iss`, `exp`, `cem_kind` (owner | staff | service), `roles`
(staff roles) and `region` (an optional staff scope).

One mode at a time, never both: with a JWKS (production) only RS256/ES256 signed by a key
of that set, picked by `kid` and checked with that key's own algorithm; without one, HS256
with the shared secret. So a token "signed" with a public key as an HMAC secret, or with
`alg: none`, never verifies.
"""

import asyncio
import time
import uuid

import httpx
import jwt
import structlog

from gateway.config import GatewaySettings
from shared.auth import Caller, CallerKind, StaffRole
from shared.errors import Forbidden, Unauthorized

log = structlog.get_logger("gateway.tokens")

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
REQUIRED_CLAIMS = ["exp", "sub", "aud", "iss"]
JWKS_REFRESH_SECONDS = 3600.0
# An unknown `kid` refetches the set (the provider may have rotated), but at most this
# often: a stream of forged key ids must not turn the gateway against the provider.
JWKS_MIN_REFETCH_SECONDS = 30.0


class SigningKeys:
    """The identity provider's public keys by key id, fetched without blocking the loop."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, key_id: str) -> jwt.PyJWK:
        now = time.monotonic()
        stale = now - self._fetched_at > JWKS_REFRESH_SECONDS
        may_refetch = now - self._fetched_at > JWKS_MIN_REFETCH_SECONDS
        if stale or (key_id not in self._keys and may_refetch):
            async with self._lock:
                if self._fetched_at < now:  # no other request refreshed it meanwhile
                    await self._fetch()
        if key_id not in self._keys:
            raise Unauthorized(f"Bearer token signed with an unknown key id {key_id!r}")
        return self._keys[key_id]

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self._url)
                response.raise_for_status()
                published = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, AttributeError, jwt.PyJWTError) as error:
            log.warning("jwks_fetch_failed", url=self._url, error=repr(error))
            return  # keep the keys we had
        self._keys = {
            key.key_id: key
            for key in published.keys
            if key.key_id and key.algorithm_name in ASYMMETRIC_ALGORITHMS
        }


class TokenValidator:
    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings
        self._jwks = SigningKeys(settings.jwks_url) if settings.jwks_url else None

    async def caller(self, token: str) -> tuple[Caller, float]:
        """The token's caller and when the token expires."""
        try:
            claims = await self._decode(token)
            return caller_from_claims(claims), float(claims["exp"])
        except jwt.PyJWTError as error:
            raise Unauthorized(f"Bearer token rejected: {error}") from error
        except (KeyError, ValueError, TypeError) as error:
            raise Unauthorized("Bearer token has malformed claims") from error

    async def _decode(self, token: str) -> dict:
        common = {
            "audience": self._settings.jwt_audience,
            "issuer": self._settings.jwt_issuer,
            "options": {"require": REQUIRED_CLAIMS},
        }
        if self._jwks is None:
            secret = self._settings.jwt_secret.get_secret_value()
            return jwt.decode(token, secret, algorithms=["HS256"], **common)
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ASYMMETRIC_ALGORITHMS:
            raise Unauthorized(f"Bearer tokens must be signed with {sorted(ASYMMETRIC_ALGORITHMS)}")
        key_id = header.get("kid")
        if not isinstance(key_id, str):
            raise Unauthorized("Bearer token names no key id (kid)")
        key = await self._jwks.key_for(key_id)
        return jwt.decode(token, key, algorithms=[key.algorithm_name], **common)


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
