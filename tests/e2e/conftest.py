"""End-to-end: the platform as `make run` starts it, called through the gateway only."""

import uuid
from dataclasses import dataclass

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.tokens import mint_development_token
from shared.auth import CallerKind, StaffRole
from tests.helpers import eventually


def bearer(kind: CallerKind, subject: str, *roles: StaffRole) -> dict[str, str]:
    token = mint_development_token(
        GatewaySettings(environment="test"), kind=kind, subject=subject, roles=roles
    )
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(CallerKind.STAFF, "admin@cem.test", StaffRole.ADMIN)


@dataclass
class Dealer:
    id: str
    code: str
    headers: dict[str, str]


@pytest.fixture(scope="session")
async def gateway(platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as client:
        yield client


async def onboard_dealer(gateway: httpx.AsyncClient, *, region: str = "East") -> Dealer:
    """Creates a dealer in profile, waits until the gateway has learnt of it, issues a key."""
    code = f"E{uuid.uuid4().hex[:8]}"
    created = await gateway.post(
        "/v1/profile/dealers",
        json={"code": code, "name": f"Dealer {code}", "city": "Shanghai", "region": region},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    dealer_id = created.json()["id"]
    issued: dict = {}

    async def key_issued() -> bool:
        response = await gateway.post(f"/v1/gateway/dealers/{dealer_id}/keys", headers=ADMIN)
        if response.status_code == 201:
            issued.update(response.json())
        return bool(issued)

    await eventually(key_issued, within_seconds=30)
    return Dealer(id=dealer_id, code=code, headers={"X-API-Key": issued["key"]})
