"""Every (route, role) pair of the merged OpenAPI against the allow table, writes included: a
pair outside it is refused (403; 404 where the path names a record the caller may not see), a
pair inside it is neither refused nor a 5xx. A route missing from the table fails with the line
to add (probed here, to be reviewed before it is pasted); so does an entry naming no route.
Writes are also tried with a dealer group's key (holding the tenant's dealer).

Each request is valid (tests/security/examples.py), so what answers is the role check and not
the body's validation. Reads run on the shared platform; writes on the sandbox, as allowed
callers' writes change platform-wide configuration.
"""

from tests.security.allow_table import ALLOWED, allowed
from tests.security.conftest import (
    PARAMETER,
    ROLES,
    Resolver,
    Tenant,
    operations,
    random_path,
    role_headers,
)
from tests.security.examples import Example, examples


def refusals(path: str) -> set[int]:
    return {403, 404} if PARAMETER.search(path) else {403}


def last(operation: tuple[str, str]) -> bool:
    """Erasure is probed after the rest: once it is accepted, the owner's records are gone."""
    return "erasure" in operation[1]


async def probe(edge, resolver: Resolver, tenant: Tenant, example: Example, method, path, roles):
    """Each role's status on the route, refused roles first (so that allowed callers' writes
    come after), with the caller's own records where it has any."""
    target = await resolver.fill(path, example.path_values) or random_path(path)
    statuses = {}
    for role in sorted(roles, key=lambda role: allowed(method, path, role)):
        body = example.body_for(tenant.records)
        response = await edge.request(method, target, json=body, headers=role_headers(role, tenant))
        statuses[role] = response.status_code
    return statuses


def wrong_answers(method: str, path: str, statuses: dict[str, int]) -> list[str]:
    key, wrong = f"{method} {path}", []
    for role, status in statuses.items():
        if allowed(method, path, role):
            if status == 403 or status >= 500:
                wrong.append(f"{role} {key}: {status}, allowed")
        elif status not in refusals(path):
            hint = " (validation before the role check, or BODIES needs a valid body)"
            wrong.append(f"{role} {key}: {status}, expected {refusals(path)}" + (
                hint if status == 422 else ""
            ))  # fmt: skip
    return wrong


async def check_against_the_table(edge, document, tenants, methods, roles=ROLES) -> None:
    stranger, own = tenants
    resolver = Resolver(edge, owner=own, other=stranger)
    drawn = examples(document)
    unlisted, wrong = {}, []
    chosen = [operation for operation in operations(document) if operation[0] in methods]
    for method, path in sorted(chosen, key=last):
        key = f"{method} {path}"
        statuses = await probe(edge, resolver, own, drawn[key], method, path, roles)
        if key not in ALLOWED:
            taken = {role for role, status in statuses.items() if status not in refusals(path)}
            unlisted[key] = sorted(taken & set(ROLES))  # a group key's follow its dealer's
            continue
        wrong += wrong_answers(method, path, statuses)
    lines = "\n".join(f"    {key!r}: frozenset({roles!r})," for key, roles in unlisted.items())
    assert not unlisted, f"routes missing from ALLOWED (probed; review, then add):\n{lines}"
    assert not wrong, "\n".join(wrong)


async def test_every_read_is_refused_outside_the_allow_table(edge, openapi, tenants):
    await check_against_the_table(edge, openapi, tenants, {"GET"})


async def test_every_write_is_refused_outside_the_allow_table(
    sandbox_edge, sandbox_openapi, sandbox_tenants
):
    writes = {"POST", "PUT", "PATCH", "DELETE"}
    roles = (*ROLES, "dealer_group")
    await check_against_the_table(sandbox_edge, sandbox_openapi, sandbox_tenants, writes, roles)


def test_the_allow_table_names_only_routes_that_exist(openapi):
    routes = {f"{method} {path}" for method, path in operations(openapi)}
    assert not set(ALLOWED) - routes, sorted(set(ALLOWED) - routes)
