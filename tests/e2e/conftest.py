"""End-to-end: the platform as `make run` starts it, called through the gateway only."""

import inspect
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
HERE = Path(__file__).parent


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


@dataclass
class Overdue:
    """What scenarios 1 and 6 leave unanswered until a one-minute first response is breached."""

    complaint: Any
    lead: Any


@pytest.fixture(scope="package", autouse=True)
async def overdue(gateway) -> Overdue:
    """Opened before the package's first test, so the real minute to each breach passes while
    the scenarios before it run instead of in a wait of its own."""
    # The scenarios import this module: imported once it is loaded.
    from tests.e2e import test_scenario_1_closed_loop_complaint as scenario_1
    from tests.e2e import test_scenario_6_lead_follow_up as scenario_6

    return Overdue(
        complaint=await scenario_1.unanswered_complaint(gateway),
        lead=await scenario_6.unanswered_lead(gateway),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The scenarios that end waiting for an `overdue` case's breach run after the package's
    others, whose work fills the minute to it."""
    ours = [index for index, item in enumerate(items) if item.path.parent == HERE]
    ordered = sorted((items[index] for index in ours), key=_waits_for_a_breach)
    for index, item in zip(ours, ordered, strict=True):
        items[index] = item


def _waits_for_a_breach(item: pytest.Item) -> bool:
    return "overdue" in inspect.signature(item.obj).parameters
