"""Generated from the merged OpenAPI: every GET route with an id, asked for dealer B's own
records by dealer A's key and by an owner of A's, is a 404. New routes are covered as their
services land; a route is only skipped while B has no record for it (listed on failure)."""

from tests.security.allow_table import allowed
from tests.security.conftest import PARAMETER, Resolver, operations

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


async def test_another_dealers_or_owners_records_are_404(edge, openapi, tenants):
    stranger, victim = tenants
    resolver = Resolver(edge, owner=victim, other=stranger)
    strangers = {"dealer": stranger.dealer.headers, "owner": stranger.owner_headers}
    covered, uncovered, leaks = set(), [], []
    for method, path in operations(openapi, "GET"):
        if not PARAMETER.search(path):
            continue
        target = await resolver.fill(path)
        if target is None:
            uncovered.append(path)
            continue
        covered.add(path)
        for role, headers in strangers.items():
            status = (await edge.get(target, headers=headers)).status_code
            expected = {404} if allowed(method, path, role) else {403, 404}
            if status not in expected:
                leaks.append(f"{role} GET {target} ({path}): {status}, expected {expected}")
    assert not leaks, "\n".join(leaks)
    missing = MUST_COVER - covered
    assert not missing, f"no record of B's reached {sorted(missing)}; unresolved: {uncovered}"
