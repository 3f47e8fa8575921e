"""Every (GET route, role) pair in the merged OpenAPI against the allow table: a pair outside
it is refused, a pair inside it is not, and a route missing from it fails with the line to add
(probed here, to be reviewed before it is pasted)."""

from tests.security.allow_table import ALLOWED
from tests.security.conftest import ROLES, Resolver, operations, random_path, role_headers


async def probe(edge, resolver: Resolver, tenant, document, method, path) -> dict[str, int]:
    """Each role's status on the route, with the caller's own records where it has any."""
    parameters = document["paths"][path][method.lower()].get("parameters", [])
    target = await resolver.fill(path) or random_path(path, parameters)
    return {
        role: (await edge.request(method, target, headers=role_headers(role, tenant))).status_code
        for role in ROLES
    }


async def test_every_read_is_refused_outside_the_allow_table(edge, openapi, tenants):
    stranger, own = tenants
    resolver = Resolver(edge, owner=own, other=stranger)
    unlisted, wrong = {}, []
    for method, path in operations(openapi, "GET"):
        statuses = await probe(edge, resolver, own, openapi, method, path)
        key = f"{method} {path}"
        if key not in ALLOWED:
            unlisted[key] = sorted(role for role, status in statuses.items() if status != 403)
            continue
        for role, status in statuses.items():
            fine = status != 403 if role in ALLOWED[key] else status in {403, 404}
            if not fine:
                wrong.append(f"{role} {key}: {status}")
    lines = "\n".join(f"    {key!r}: frozenset({roles!r})," for key, roles in unlisted.items())
    assert not unlisted, f"routes missing from ALLOWED (probed; review, then add):\n{lines}"
    assert not wrong, "\n".join(wrong)
