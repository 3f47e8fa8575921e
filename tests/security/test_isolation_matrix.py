"""Generated from the merged OpenAPI: every route with an id, reads and writes, asked for
dealer B's own records by dealer A's key and by an owner of A's, is a 404 (or a 403 where the
role may not call the route at all). Writes carry a valid body naming A's records
(tests/security/examples.py), so the answer is the scope's, not validation's. New routes are
covered as their services land; a route is only skipped while B has no record for it (listed
on failure)."""

from tests.security.allow_table import allowed
from tests.security.conftest import PARAMETER, Resolver, operations
from tests.security.examples import examples

# The routes the seeded data must reach: if one drops out, the matrix has lost coverage.
MUST_COVER = {
    "/v1/profile/owners/{owner_id}",
    "/v1/profile/vehicles/{vehicle_id}",
    "/v1/profile/orders/{order_id}",
    "/v1/profile/service-visits/{visit_id}",
    "/v1/tickets/tickets/{ticket_id}",
    "/v1/tickets/tickets/{ticket_id}/timeline",
    "/v1/telematics/vehicles/{vin}",
}
MUST_COVER_WRITES = {
    "POST /v1/profile/orders/{order_id}/status",
    "PUT /v1/profile/owners/{owner_id}/consents",
    "POST /v1/profile/owners/{owner_id}/erasure-requests",
    "POST /v1/profile/vehicles/{vehicle_id}/ownership",
    "POST /v1/tickets/tickets/{ticket_id}/comments",
    "POST /v1/tickets/tickets/{ticket_id}/transitions",
}


async def test_another_dealers_or_owners_records_are_404(edge, openapi, tenants):
    stranger, victim = tenants
    resolver = Resolver(edge, owner=victim, other=stranger)
    drawn = examples(openapi)
    strangers = {"dealer": stranger.dealer.headers, "owner": stranger.owner_headers}
    covered, uncovered, leaks = set(), [], []
    for method, path in operations(openapi):
        if not PARAMETER.search(path):
            continue
        target = await resolver.fill(path)
        if target is None:
            uncovered.append(f"{method} {path}")
            continue
        covered.add(f"{method} {path}")
        body = drawn[f"{method} {path}"].body_for(stranger.records)
        for role, headers in strangers.items():
            response = await edge.request(method, target, json=body, headers=headers)
            expected = {404} if allowed(method, path, role) else {403, 404}
            if response.status_code not in expected:
                leaks.append(
                    f"{role} {method} {target} ({path}): {response.status_code}, "
                    f"expected {expected}"
                )
    assert not leaks, "\n".join(leaks)
    missing = ({f"GET {path}" for path in MUST_COVER} | MUST_COVER_WRITES) - covered
    assert not missing, f"no record of B's reached {sorted(missing)}; unresolved: {uncovered}"


async def test_a_dealer_groups_key_sees_its_dealers_records_and_no_other(
    edge, openapi, tenants, group_keys
):
    """B's group's key reads B's records wherever B's own key does; A's group's key (A and
    another dealer, not B) gets what A's key gets: 404, or 403 where dealers may not read."""
    stranger, victim = tenants
    strangers_group, victims_group = group_keys
    resolver = Resolver(edge, owner=victim, other=stranger)
    covered, wrong = set(), []
    for method, path in operations(openapi, "GET"):
        target = await resolver.fill(path) if PARAMETER.search(path) else None
        if target is None:
            continue
        covered.add(path)
        own = (await edge.get(target, headers=victim.dealer.headers)).status_code
        statuses = {
            "B's group": ((await edge.get(target, headers=victims_group)).status_code, {own}),
            "A's group": (
                (await edge.get(target, headers=strangers_group)).status_code,
                {404} if allowed(method, path, "dealer") else {403, 404},
            ),
        }
        for who, (status, expected) in statuses.items():
            if status not in expected:
                wrong.append(f"{who} GET {target} ({path}): {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    assert not MUST_COVER - covered, sorted(MUST_COVER - covered)
