"""A dealer group's key sees the invitations, answers and figures of its dealers only."""

from tests.feedback.conftest import answer, new_dealer
from tests.helpers import dealer_group_caller


async def answers_of(app, admin, dealer, *scores: int) -> list[dict]:
    return [await answer(app, admin, score, dealer_id=str(dealer.dealer_id)) for score in scores]


async def test_a_group_sees_the_answers_of_its_dealers_only(feedback_app, admin, client_as):
    first, second, outsider = new_dealer(), new_dealer(), new_dealer()
    mine = [*await answers_of(feedback_app, admin, first, 10), *await answers_of(
        feedback_app, admin, second, 3
    )]  # fmt: skip
    (theirs,) = await answers_of(feedback_app, admin, outsider, 9)
    group = client_as(dealer_group_caller(first, second))

    listed = {item["id"] for item in (await group.get("/responses")).json()["items"]}
    assert listed == {item["id"] for item in mine}
    assert (await group.get(f"/responses/{theirs['id']}")).status_code == 404
    invitations = (await group.get("/invitations")).json()["items"]
    assert {item["dealer_id"] for item in invitations} == {
        str(first.dealer_id),
        str(second.dealer_id),
    }


async def test_a_groups_figures_span_its_dealers_and_no_other(feedback_app, admin, client_as):
    first, second, outsider = new_dealer(), new_dealer(), new_dealer()
    await answers_of(feedback_app, admin, first, 10, 9)
    await answers_of(feedback_app, admin, second, 2)
    await answers_of(feedback_app, admin, outsider, 0, 0, 0)
    group = client_as(dealer_group_caller(first, second))

    total = (await group.get("/analytics/scores")).json()["total"]
    assert (total["responses"], total["promoters"], total["detractors"]) == (3, 2, 1)
    by_dealer = (await group.get("/analytics/scores", params={"by": "dealer_id"})).json()
    assert {item["key"] for item in by_dealer["groups"]} == {
        str(first.dealer_id),
        str(second.dealer_id),
    }
    one = await group.get("/analytics/scores", params={"dealer_id": str(second.dealer_id)})
    assert one.json()["total"]["responses"] == 1
    for path in ("/analytics/scores", "/analytics/topics", "/analytics/verbatims"):
        other = await group.get(path, params={"dealer_id": str(outsider.dealer_id)})
        assert other.status_code == 404, path
