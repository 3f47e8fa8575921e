"""The platform as `make run` starts it, seen through the gateway by strangers.

Dealer B (with an owner) holds data created through the public API; dealer A and an owner of
A's are the strangers who must never see it. Routes come from the merged OpenAPI, so every
service that lands is covered without touching these tests.

Writes by callers who may make them run on a `sandbox` platform of their own: they change
platform-wide configuration (SLA policies, routing, contact policy) that other end-to-end
tests rely on.
"""

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cli.embedded import EmbeddedNats, free_port
from cli.launcher import Platform, components
from shared.auth import CallerKind, StaffRole
from shared.config import SERVICE_PORTS
from tests.e2e.conftest import ADMIN, Dealer, bearer, onboard_dealer
from tests.helpers import eventually
from tests.profile.conftest import dms_batch, make_vin

PARAMETER = re.compile(r"{([^}]+)}")
# "service": a machine credential (the vehicle gateway, a community connector).
ROLES = ("owner", "dealer", *(role.value for role in StaffRole), "service")
# Routes whose caller is not a platform identity at all (a survey link's token).
PUBLIC_PREFIXES = ("/v1/feedback/public/",)
EMAIL, PHONE = "matrix.owner@example.com", "+86 139 1234 5678"
# The contacts as written and as a log or a response might reformat them.
CONTACT_SPELLINGS = {EMAIL, PHONE, PHONE.replace(" ", ""), re.sub(r"\D", "", PHONE)}


@dataclass
class Tenant:
    dealer: Dealer
    owner_headers: dict[str, str]
    owner_id: str
    vin: str
    listings: dict[str, list[dict]] = field(default_factory=dict)
    # The key of a dealer group holding this tenant's dealer and another (where one is made).
    group_headers: dict[str, str] = field(default_factory=dict)

    @property
    def records(self) -> dict[str, str]:
        """The tenant's well-known ids, as request bodies name them."""
        return {"dealer_id": self.dealer.id, "owner_id": self.owner_id, "vin": self.vin}


@pytest.fixture(scope="session")
async def edge(platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
async def openapi(edge) -> dict:
    return await merged_openapi(edge)


async def merged_openapi(edge: httpx.AsyncClient) -> dict:
    """The merged document, once every service's paths are in it."""
    document: dict = {}

    async def complete() -> bool:
        document.update((await edge.get("/openapi.json")).json())
        services = {path.split("/")[2] for path in document["paths"]}
        return services >= {*SERVICE_PORTS, "gateway"}

    await eventually(complete, within_seconds=60)
    return document


@pytest.fixture(scope="package")
def sandbox(infrastructure, tmp_path_factory):
    """The platform again, with a broker and databases of its own, for writes that change
    what other tests rely on (the fuzzer's, the allowed callers' in the allow table)."""
    folder = tmp_path_factory.mktemp("security-sandbox")
    ports = {component.name: free_port() for component in components()}
    with EmbeddedNats(folder / "nats") as nats:
        own = infrastructure.isolated(nats.url)
        own.database_prefix += "sandbox"
        environment = {**own.environment(), "CEM_LOG_LEVEL": "WARNING"}
        with Platform(folder, ports=ports, environment=environment, echo=False) as platform:
            yield platform


@pytest.fixture(scope="package")
async def sandbox_edge(sandbox):
    async with httpx.AsyncClient(base_url=sandbox.gateway_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="package")
async def sandbox_openapi(sandbox_edge) -> dict:
    return await merged_openapi(sandbox_edge)


@pytest.fixture(scope="package")
async def sandbox_tenants(sandbox_edge) -> tuple[Tenant, Tenant]:
    """(A, B) as `tenants`; B's dealer is in a dealer group, with a key, beside a partner."""
    (a, b), partner = await seed_two(sandbox_edge), await onboard_dealer(sandbox_edge)
    b.group_headers = await onboard_group(sandbox_edge, b.dealer.id, partner.id)
    return a, b


def operations(document: dict, method: str | None = None) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation, public survey-link routes left out."""
    return sorted(
        (verb.upper(), path)
        for path, item in document["paths"].items()
        for verb in item
        if verb in {"get", "post", "put", "patch", "delete"}
        and (method is None or verb.upper() == method)
        and not path.startswith(PUBLIC_PREFIXES)
    )


def role_headers(role: str, tenant: Tenant) -> dict[str, str]:
    if role == "owner":
        return tenant.owner_headers
    if role == "dealer":
        return tenant.dealer.headers
    if role == "dealer_group":
        return tenant.group_headers
    if role == "service":
        return bearer(CallerKind.SERVICE, "vehicle-gateway")
    return bearer(CallerKind.STAFF, f"{role}@cem.test", StaffRole(role))


async def seed_two(edge: httpx.AsyncClient) -> tuple[Tenant, Tenant]:
    """Two tenants of dealers of their own, seeded side by side (each waits on events)."""

    async def tenant() -> Tenant:
        return await seed(edge, await onboard_dealer(edge))

    a, b = await asyncio.gather(tenant(), tenant())
    return a, b


async def seed(edge: httpx.AsyncClient, dealer: Dealer) -> Tenant:
    """A dealer's owner, vehicle, order and service visit (one DMS import), a case, signals."""
    vin = make_vin()
    batch = dms_batch(vin=vin)
    batch["owners"][0].update(email=EMAIL, phone=PHONE)
    imported = await edge.post("/v1/profile/imports", json=batch, headers=dealer.headers)
    assert imported.status_code == 200, imported.text
    owners = (await edge.get("/v1/profile/owners", headers=dealer.headers)).json()["items"]
    owner_id = owners[0]["id"]
    owner_headers = bearer(CallerKind.OWNER, owner_id)
    case = {"kind": "inquiry", "subject": "Key fob", "description": "Intermittent"}
    for headers in (dealer.headers, owner_headers):
        opened = await edge.post("/v1/tickets/tickets", json=case, headers=headers)
        assert opened.status_code == 201, opened.text
    await _send_signals(edge, dealer, vin)
    return Tenant(dealer=dealer, owner_headers=owner_headers, owner_id=owner_id, vin=vin)


async def _send_signals(edge: httpx.AsyncClient, dealer: Dealer, vin: str) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    samples = [
        {"vin": vin, "ts": (start + timedelta(seconds=i)).isoformat(),
         "signals": {"Vehicle.Speed": 40.0, "Vehicle.TraveledDistance": 9000.0 + 10 * i}}
        for i in range(5)
    ]  # fmt: skip

    async def accepted() -> bool:
        response = await edge.post("/v1/telematics/signals", json=samples, headers=dealer.headers)
        return response.status_code == 200 and response.json()["accepted"] > 0

    await eventually(accepted, within_seconds=60)


@pytest.fixture(scope="session")
async def tenants(edge) -> tuple[Tenant, Tenant]:
    """(stranger A, victim B), each with its own dealer, owner, vehicle and case."""
    return await seed_two(edge)


@pytest.fixture(scope="session")
async def group_keys(edge, tenants) -> tuple[dict[str, str], dict[str, str]]:
    """Keys of two dealer groups: A's (A and a dealer of its own) and B's (B and another)."""
    return await group_keys_of(edge, tenants)


async def group_keys_of(
    edge: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> tuple[dict[str, str], dict[str, str]]:
    """For each tenant, the key of a group of its dealer and a partner (made side by side)."""

    async def group_key(tenant: Tenant) -> dict[str, str]:
        partner = await onboard_dealer(edge)
        return await onboard_group(edge, tenant.dealer.id, partner.id)

    a, b = await asyncio.gather(*map(group_key, tenants))
    return a, b


async def onboard_group(edge: httpx.AsyncClient, *dealer_ids: str) -> dict[str, str]:
    """A dealer group holding the dealers, and its key once the gateway sees them all."""
    body = {"code": f"G{uuid.uuid4().hex[:8]}", "name": "Matrix Group", "region": "East"}
    group = await edge.post("/v1/profile/dealer-groups", json=body, headers=ADMIN)
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    for dealer_id in dealer_ids:
        moved = await edge.put(
            f"/v1/profile/dealers/{dealer_id}/group", json={"group_id": group_id}, headers=ADMIN
        )
        assert moved.status_code == 200, moved.text
    headers: dict[str, str] = {}

    async def key_sees_every_dealer() -> bool:
        if not headers:
            issued = await edge.post(f"/v1/gateway/dealer-groups/{group_id}/keys", headers=ADMIN)
            if issued.status_code != 201:
                return False
            headers["X-API-Key"] = issued.json()["key"]
        dealers = await edge.get("/v1/profile/dealers", headers=headers)
        return {item["id"] for item in dealers.json()["items"]} == set(dealer_ids)

    # Two hops of events (profile -> gateway) per dealer: slow when the machine is loaded.
    await eventually(key_sees_every_dealer, within_seconds=120)
    return headers


class Resolver:
    """Fills a route's path parameters with a tenant's own records.

    `/v1/x/things/{thing_id}/parts` takes `thing_id` from the tenant's listing of
    `/v1/x/things` (an item's field of the parameter's name, else its `id`); parameters with
    no listing above them fall back to the tenant's well-known ids. A value the other tenant
    lists too is shared configuration, not the tenant's own, and is never used.
    """

    def __init__(self, edge: httpx.AsyncClient, owner: Tenant, other: Tenant) -> None:
        self.edge = edge
        self.owner = owner
        self.other = other
        self.known = {"dealer_id": owner.dealer.id, "owner_id": owner.owner_id, "vin": owner.vin}

    async def fill(self, path: str, fallback: dict[str, str] | None = None) -> str | None:
        """The path with the tenant's records, else `fallback`'s values (None without)."""
        filled = path
        for name in PARAMETER.findall(path):
            collection = filled[: filled.index("{" + name + "}")].rstrip("/")
            value = await self._own_value(collection, name) or self.known.get(name)
            value = value or (fallback or {}).get(name)
            if value is None:
                return None
            filled = filled.replace("{" + name + "}", str(value), 1)
        return filled

    async def _own_value(self, collection: str, name: str) -> str | None:
        mine = await self._values(self.owner, collection, name)
        theirs = await self._values(self.other, collection, name)
        own = [value for value in mine if value not in theirs]
        return own[0] if own else None

    async def _values(self, tenant: Tenant, collection: str, name: str) -> list[str]:
        if collection not in tenant.listings:
            response = await self.edge.get(collection, headers=tenant.dealer.headers)
            body = response.json() if response.status_code == 200 else {}
            items = body.get("items", []) if isinstance(body, dict) else body
            tenant.listings[collection] = [item for item in items if isinstance(item, dict)]
        return [
            str(item.get(name, item.get("id")))
            for item in tenant.listings[collection]
            if item.get(name, item.get("id")) is not None
        ]


def random_path(path: str, parameters: list[dict] = ()) -> str:
    """The route with made-up ids of the declared types: what a caller guessing at records
    would send."""
    integers = {p["name"] for p in parameters if p.get("schema", {}).get("type") == "integer"}
    return PARAMETER.sub(lambda name: "987654" if name[1] in integers else str(uuid.uuid4()), path)
