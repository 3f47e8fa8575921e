"""Generated from the merged OpenAPI: staff whose work needs no owner's contacts (quality
engineers, marketing) never read an e-mail address or a phone number in full, from any route;
the owner's dealer and customer service do (tests/profile covers the masked 360 view)."""

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
