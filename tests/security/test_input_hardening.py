"""Generated from the merged OpenAPI: bodies refuse unknown and read-only fields (mass
assignment), every page size is capped, and personal data never reaches a log."""

import uuid

from shared.config import SERVICE_PORTS
from tests.e2e.conftest import ADMIN
from tests.security.conftest import CONTACT_SPELLINGS, EMAIL, PHONE, operations, random_path

READ_ONLY = ("id", "created_at", "updated_at")
PAGE_SIZE_PARAMETERS = {"limit", "page_size", "per_page", "size"}


def body_schema(document: dict, method: str, path: str) -> dict | None:
    """The operation's JSON object body schema, references followed once."""
    body = document["paths"][path][method.lower()].get("requestBody")
    schema = (body or {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema if schema.get("type") == "object" else None


def named_fields(response) -> set[str]:
    return {error.get("field", "") for error in response.json().get("errors", [])}


async def test_unknown_and_read_only_fields_are_refused(edge, openapi):
    lenient = []
    for method, path in operations(openapi):
        schema = body_schema(openapi, method, path)
        if schema is None:
            continue
        smuggled = ["is_admin", *(f for f in READ_ONLY if f not in schema.get("properties", {}))]
        body = dict.fromkeys(smuggled, "x")
        response = await edge.request(method, random_path(path), json=body, headers=ADMIN)
        unnamed = [f for f in smuggled if f"body.{f}" not in named_fields(response)]
        if response.status_code != 422 or unnamed:
            lenient.append(f"{method} {path}: {response.status_code}, not named: {unnamed}")
    assert not lenient, "\n".join(lenient)


async def test_every_page_size_is_capped(edge, openapi):
    uncapped, paged = [], 0
    for method, path in operations(openapi, "GET"):
        for parameter in openapi["paths"][path]["get"].get("parameters", []):
            if parameter["in"] != "query" or parameter["name"] not in PAGE_SIZE_PARAMETERS:
                continue
            paged += 1
            maximum = parameter.get("schema", {}).get("maximum")
            if maximum is None:
                uncapped.append(f"{method} {path} ?{parameter['name']}: no maximum")
                continue
            query = {parameter["name"]: int(maximum) + 1}
            response = await edge.get(random_path(path), params=query, headers=ADMIN)
            if response.status_code != 422:
                uncapped.append(f"{method} {path} ?{parameter['name']}={query}: {response}")
    assert paged >= len(SERVICE_PORTS), "fewer paged routes than services: the walk is broken"
    assert not uncapped, "\n".join(uncapped)


async def test_personal_data_never_reaches_the_logs(edge, tenants, platform):
    stranger, own = tenants
    # Requests that fail in every way we can provoke, each carrying the owner's contacts. The
    # platform logs warnings and errors here (as the e2e fixture starts it): the lines that
    # quote request data; the tenants' DMS import already wrote these contacts successfully.
    await edge.post("/v1/profile/owners", json={"email": EMAIL, "phone": 7}, headers=ADMIN)
    await edge.post(
        "/v1/profile/owners",
        json={"full_name": PHONE, "email": EMAIL, "vip": True},
        headers=own.dealer.headers,
    )
    await edge.get(f"/v1/profile/owners/{uuid.uuid4()}", params={"q": EMAIL}, headers=ADMIN)
    await edge.get("/v1/profile/owners", params={"email": EMAIL}, headers=stranger.dealer.headers)
    await edge.get("/v1/profile/owners", headers={"Authorization": f"Bearer {EMAIL}"})
    leaked = []
    for component in platform.components:
        text = platform.log_path(component.name).read_text(errors="replace")
        leaked += [f"{component.name}: {value}" for value in CONTACT_SPELLINGS if value in text]
    assert not leaked, leaked
