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
