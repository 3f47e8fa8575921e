"""Production tokens: RS256/ES256 from the identity provider's JWKS, served here by a real
HTTP server. Every forgery and every stale or misdirected token is a 401 problem."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cli.embedded import free_port
from gateway import tokens
from shared.config import DEV_JWT_SECRET
from tests.gateway.support import OWNER_ID, forwarded_caller, owner_claims
from tests.helpers import eventually


@dataclass
class IdentityProvider:
    """Signing keys by kid; `published` is what its JWKS endpoint serves right now."""

    url: str
    rsa_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ec_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    published: list[dict] = field(default_factory=list)
    fetches: int = 0

    def publish(self) -> None:
        self.published[:] = [
            {**jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa_key.public_key(), as_dict=True),
             "kid": "rsa-1", "use": "sig"},
            {**jwt.algorithms.ECAlgorithm.to_jwk(self.ec_key.public_key(), as_dict=True),
             "kid": "ec-1", "use": "sig"},
        ]  # fmt: skip

    def rs256(self, kid: str = "rsa-1", **claims) -> str:
        return jwt.encode(owner_claims(**claims), self.rsa_key, "RS256", headers={"kid": kid})

    def es256(self, **claims) -> str:
        return jwt.encode(owner_claims(**claims), self.ec_key, "ES256", headers={"kid": "ec-1"})

    def public_pem(self) -> bytes:
        return self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def hs256_by_hand(secret: bytes, kid: str) -> str:
    """HS256 over the claims with any bytes as the secret (PyJWT refuses a PEM as one)."""

    def part(value: bytes) -> bytes:
        return base64.urlsafe_b64encode(value).rstrip(b"=")

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = part(json.dumps(owner_claims()).encode())
    signature = part(hmac.new(secret, header + b"." + payload, hashlib.sha256).digest())
    return b".".join((header, payload, signature)).decode()


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[IdentityProvider]:
    port = free_port()
    idp = IdentityProvider(url=f"http://127.0.0.1:{port}/.well-known/jwks.json")
    idp.publish()

    async def jwks(request: Request) -> JSONResponse:
        idp.fetches += 1
        return JSONResponse({"keys": idp.published})

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, within_seconds=10)
    yield idp
    server.should_exit = True
    await task


@pytest.fixture
async def production_gateway(make_gateway, provider):
    provider.publish()
    return await make_gateway(jwks_url=provider.url)


async def call(gateway, token: str):
    return await gateway.http.get("/v1/echo/x", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("algorithm", ["rs256", "es256"])
async def test_a_token_signed_by_a_published_key_is_accepted(
    production_gateway, provider, algorithm
):
    response = await call(production_gateway, getattr(provider, algorithm)())
    assert response.status_code == 200, response.text
    assert forwarded_caller(response)["owner_id"] == OWNER_ID


FORGERIES = {
    "alg-none": lambda idp: jwt.encode(owner_claims(), None, "none", headers={"kid": "rsa-1"}),
    "hs256-keyed-with-the-public-key": lambda idp: hs256_by_hand(idp.public_pem(), "rsa-1"),
    "hs256-with-the-development-secret": lambda idp: hs256_by_hand(DEV_JWT_SECRET.encode(), "x"),
    "signed-by-another-rsa-key": lambda idp: IdentityProvider(url="").rs256(),
    "expired": lambda idp: idp.rs256(exp=int(time.time()) - 10),
    "not-yet-valid": lambda idp: idp.rs256(nbf=int(time.time()) + 3600),
    "wrong-audience": lambda idp: idp.rs256(aud="another-api"),
    "wrong-issuer": lambda idp: idp.rs256(iss="https://evil.example"),
    "unknown-kid": lambda idp: idp.rs256(kid="rsa-9"),
    "no-kid": lambda idp: jwt.encode(owner_claims(), idp.rsa_key, "RS256"),
    "ec-key-id-on-an-rsa-signature": lambda idp: idp.rs256(kid="ec-1"),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_forged_or_misdirected_tokens_are_401_problems(production_gateway, provider, forge):
    response = await call(production_gateway, forge(provider))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


async def test_unknown_key_ids_do_not_hammer_the_provider(production_gateway, provider):
    assert (await call(production_gateway, provider.rs256())).status_code == 200
    fetched = provider.fetches
    for _ in range(20):
        forged = provider.rs256(kid=f"made-up-{uuid.uuid4().hex}")
        assert (await call(production_gateway, forged)).status_code == 401
    assert provider.fetches - fetched <= 1


async def test_a_key_the_provider_adds_later_is_fetched(production_gateway, provider, monkeypatch):
    monkeypatch.setattr(tokens, "JWKS_MIN_REFETCH_SECONDS", 0.0)
    assert (await call(production_gateway, provider.rs256())).status_code == 200
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(owner_claims(), rotated, "RS256", headers={"kid": "rsa-2"})
    assert (await call(production_gateway, token)).status_code == 401

    provider.published.append(
        {**jwt.algorithms.RSAAlgorithm.to_jwk(rotated.public_key(), as_dict=True), "kid": "rsa-2"}
    )
    assert (await call(production_gateway, token)).status_code == 200
