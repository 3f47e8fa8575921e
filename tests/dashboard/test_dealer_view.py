"""A dealer's manager signs in with the dealer's key: the pages show that dealer only, the same
figures as the API gives that key, and the staff pages are not offered."""

import pytest

from tests.dashboard.conftest import agree
from tests.dashboard.test_staff_pages import feedback_agrees, sla_agrees
from tests.e2e.conftest import ADMIN
from tests.e2e.support import ok

# The first test here may start the platform and load the demo data (minutes on a busy machine).
pytestmark = pytest.mark.timeout(600)


async def test_the_scores_and_cases_are_the_dealers_own(
    dealer_manager, gateway, dealer_key, demo_dealers
):
    own = demo_dealers[0]["id"]
    await dealer_manager.page.wait_for_selector(f"#who:has-text('{demo_dealers[0]['code']}')")
    assert await dealer_manager.nav() == ["feedback", "cases", "owner"]
    filters = {"kind": "nps", "by": "dealer_id", "period": "month"}
    scores = await agree(lambda: feedback_agrees(dealer_manager, gateway, dealer_key, filters))
    assert [group["key"] for group in scores["groups"]] == [own]
    assert list(await dealer_manager.rows("groups")) == [own]
    await dealer_manager.screenshot("dealer-feedback")

    filters = {"group_by": "dealer", "period": "week"}
    report = await agree(lambda: sla_agrees(dealer_manager, gateway, dealer_key, filters))
    assert report["rows"] and {row["group"] for row in report["rows"]} == {own}
    staff_report = ok(await gateway.get("/v1/tickets/reports/sla", params=filters, headers=ADMIN))
    assert len({row["group"] for row in staff_report["rows"]}) > 1
    await dealer_manager.screenshot("dealer-cases")


async def test_owners_are_the_dealers_own_and_the_staff_pages_are_closed(
    dealer_manager, gateway, dealer_key, demo, demo_dealers
):
    await dealer_manager.open("owner")
    listed = await dealer_manager.rows("owners")
    owners = ok(await gateway.get("/v1/profile/owners", params={"limit": 50}, headers=dealer_key))
    assert list(listed) == [owner["id"] for owner in owners["items"]]
    assert {owner["city"] for owner in owners["items"]} == {demo.world.dealers[0].city.name}
    await dealer_manager.screenshot("dealer-owners")

    # Another dealer's owner: the page says it is not found, as the API does.
    other_city = demo.world.dealers[1].city.name
    everyone = ok(await gateway.get("/v1/profile/owners", headers=ADMIN,
                                    params={"city": other_city, "limit": 1}))  # fmt: skip
    stranger = everyone["items"][0]["id"]
    hidden = await gateway.get(f"/v1/profile/owners/{stranger}/360", headers=dealer_key)
    assert hidden.status_code == 404
    await dealer_manager.open(f"owner/{stranger}")
    assert await dealer_manager.state() == "error"
    assert hidden.json()["detail"] in await dealer_manager.text()

    for page in ("quality", "journeys"):
        await dealer_manager.open(page)
        assert "for staff" in await dealer_manager.text()
