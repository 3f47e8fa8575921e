"""The dashboard against the platform as `make run` starts it (the suite's `platform`), filled
with demo data by the simulator (the suite's `fleet`), in headless Chromium; each test signs in
as staff or as a dealer's manager (with the dealer's key) in a tab of its own."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx
import pytest
from playwright.async_api import async_playwright
from typer.testing import CliRunner

from cli.main import app as cli
from tests.dashboard import browser
from tests.dashboard.demo import Demo, load
from tests.e2e.conftest import ADMIN
from tests.e2e.support import ok

T = TypeVar("T")
# The page and the API are read a moment apart while events may still be landing: both are
# read again until they agree, for this long at most.
AGREE_SECONDS = 30.0


@pytest.fixture(scope="package")
async def gateway(platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="package")
async def demo(gateway, fleet) -> Demo:
    return await load(gateway, fleet)


@pytest.fixture(scope="package")
async def chromium(tmp_path_factory, demo):
    profile = tmp_path_factory.mktemp("chromium-profile")
    async with async_playwright() as playwright:
        context = await browser.launch(playwright, profile)
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture(scope="package")
def screenshots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard-screenshots")
    print(f"dashboard screenshots in {folder}")
    return folder


async def _tab(chromium, platform, screenshots, credential: str):
    page = await chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    dashboard = browser.Dashboard(page, platform.gateway_url, screenshots)
    await dashboard.sign_in(credential)
    try:
        yield dashboard
    finally:
        await page.close()
    assert not errors, f"the dashboard's scripts failed: {errors}"


@pytest.fixture(scope="package")
def staff_token() -> str:
    """What `cem token --staff --role admin` prints, as a CX director would sign in with it."""
    printed = CliRunner().invoke(cli, ["token", "--staff", "--role", "admin"])
    assert printed.exit_code == 0, printed.output
    return printed.stdout.strip()


@pytest.fixture
async def staff(chromium, platform, screenshots, staff_token):
    async for dashboard in _tab(chromium, platform, screenshots, staff_token):
        yield dashboard


@pytest.fixture(scope="package")
async def demo_dealers(gateway, demo) -> list[dict]:
    """The demo fleet's dealers, in the world's order."""
    dealers = ok(await gateway.get("/v1/profile/dealers", params={"limit": 200}, headers=ADMIN))
    by_code = {dealer["code"]: dealer for dealer in dealers["items"]}
    return [by_code[dealer.code] for dealer in demo.world.dealers]


@pytest.fixture
async def dealer_key(gateway, demo_dealers) -> AsyncIterator[dict[str, str]]:
    """A key of the first demo dealer's own (revoked afterwards: a dealer holds two at most)."""
    dealer_id = demo_dealers[0]["id"]
    issued = ok(await gateway.post(f"/v1/gateway/dealers/{dealer_id}/keys", headers=ADMIN))
    try:
        yield {"X-API-Key": issued["key"]}
    finally:
        await gateway.post(f"/v1/gateway/keys/{issued['id']}/revoke", headers=ADMIN)


@pytest.fixture
async def dealer_manager(chromium, platform, screenshots, dealer_key):
    """Signed in with the first demo dealer's key, as its manager would."""
    async for dashboard in _tab(chromium, platform, screenshots, dealer_key["X-API-Key"]):
        yield dashboard


async def agree(check: Callable[[], Awaitable[T]], *, within_seconds: float = AGREE_SECONDS) -> T:
    """Runs `check` (which reads the page and the API, and asserts they show the same) until it
    passes; the last failure stands."""
    deadline = asyncio.get_running_loop().time() + within_seconds
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)
