"""Generated from the merged OpenAPI: staff whose work needs no owner's contacts (quality
engineers, marketing) never read an e-mail address or a phone number in full, from any route;
customer service does, and every such read of an owner leaves an entry in their audit log."""

from shared.auth import CallerKind, StaffRole
from tests.e2e.conftest import ADMIN, bearer
from tests.security.conftest import (
    CONTACT_SPELLINGS,
    Resolver,
    operations,
    random_path,
    role_headers,
)
from tests.security.examples import examples

CONTACTLESS_ROLES = ("quality_engineer", "marketing")


async def test_contacts_are_masked_for_roles_that_do_not_need_them(edge, openapi, tenants):
    stranger, own = tenants
    resolver = Resolver(edge, owner=own, other=stranger)
    drawn = examples(openapi)
    shown, read = [], 0
    for method, path in operations(openapi, "GET"):
        target = await resolver.fill(path, drawn[f"{method} {path}"].path_values)
        for role in CONTACTLESS_ROLES:
            response = await edge.get(target or random_path(path), headers=role_headers(role, own))
            read += response.status_code == 200
            found = sorted(value for value in CONTACT_SPELLINGS if value in response.text)
            if found:
                shown.append(f"{role} GET {target} ({path}): {found}")
    assert read, "no route answered these roles: the walk is broken"
    assert not shown, "\n".join(shown)


async def test_every_staff_read_of_an_owners_contacts_is_audited(edge, openapi, tenants):
    """Each route is read by a CX agent of its own name: where the answer shows the owner with
    their contacts, the owner's audit log names that agent."""
    stranger, own = tenants
    resolver = Resolver(edge, owner=own, other=stranger)
    drawn = examples(openapi)
    unaudited, personal = [], 0
    for index, (method, path) in enumerate(operations(openapi, "GET")):
        target = await resolver.fill(path, drawn[f"{method} {path}"].path_values)
        agent = f"audit-{index}@cem.test"
        headers = bearer(CallerKind.STAFF, agent, StaffRole.CX_AGENT)
        response = await edge.get(target or random_path(path), headers=headers)
        contacts = any(value in response.text for value in CONTACT_SPELLINGS)
        if not contacts or own.owner_id not in response.text:
            continue
        personal += 1
        log = await edge.get(
            f"/v1/profile/owners/{own.owner_id}/audit", params={"limit": 200}, headers=ADMIN
        )
        if agent not in {entry["actor"] for entry in log.json()}:
            unaudited.append(f"GET {target} ({path})")
    assert personal, "no route showed the owner's contacts: the walk is broken"
    assert not unaudited, "\n".join(unaudited)
