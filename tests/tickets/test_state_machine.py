"""The case state machine: every legal move works, every illegal one is a clear 409."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from services.tickets.domain import TicketStatus, legal_transitions, transition_problem
from tests.tickets.conftest import new_owner

S = TicketStatus
LEGAL = {
    (S.NEW, S.ACKNOWLEDGED),
    (S.ACKNOWLEDGED, S.IN_PROGRESS),
    (S.ACKNOWLEDGED, S.WAITING_ON_OWNER),
    (S.ACKNOWLEDGED, S.RESOLVED),
    (S.IN_PROGRESS, S.WAITING_ON_OWNER),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.WAITING_ON_OWNER, S.IN_PROGRESS),
    (S.WAITING_ON_OWNER, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.IN_PROGRESS),  # reopen
}
NOW = datetime(2026, 3, 2, tzinfo=UTC)
# How to bring a fresh case to each status through the API.
PATH = {
    S.NEW: [],
    S.ACKNOWLEDGED: [S.ACKNOWLEDGED],
    S.IN_PROGRESS: [S.ACKNOWLEDGED, S.IN_PROGRESS],
    S.WAITING_ON_OWNER: [S.ACKNOWLEDGED, S.WAITING_ON_OWNER],
    S.RESOLVED: [S.ACKNOWLEDGED, S.RESOLVED],
    S.CLOSED: [S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED],
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_the_transition_table(current, target):
    problem = transition_problem(current, target, by_owner=False, now=NOW, reopen_until=None)
    assert (problem is None) == ((current, target) in LEGAL)
    if problem:
        assert f"a {current} case cannot move to {target}" in problem


def test_reopening_is_refused_after_the_period():
    late = transition_problem(
        S.RESOLVED, S.IN_PROGRESS, by_owner=True, now=NOW, reopen_until=NOW - timedelta(seconds=1)
    )
    assert late is not None and "reopen period ended" in late
    assert (
        transition_problem(S.RESOLVED, S.IN_PROGRESS, by_owner=True, now=NOW, reopen_until=NOW)
        is None
    )


def test_owners_may_only_close_or_reopen_resolved_cases():
    for current, target in LEGAL:
        problem = transition_problem(current, target, by_owner=True, now=NOW, reopen_until=None)
        assert (problem is None) == (current is S.RESOLVED), (current, target)


async def bring_to(agent, ticket_id: str, status: TicketStatus) -> None:
    for step in PATH[status]:
        response = await agent.move(ticket_id, step, reason=f"to {step}")
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
async def test_every_move_through_the_api(agent, current, target):
    ticket = await agent.open()
    await bring_to(agent, ticket["id"], current)
    response = await agent.move(ticket["id"], target, reason="testing")
    if (current, target) in LEGAL:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
    else:
        assert response.status_code == 409, response.text
        body = response.json()
        assert body["code"] == "illegal_transition"
        assert f"a {current} case cannot move to {target}" in body["detail"]
        allowed = legal_transitions(current)
        assert all(status in body["detail"] for status in allowed)
        assert (await agent.get(f"/tickets/{ticket['id']}")).json()["status"] == current


async def test_every_change_records_who_when_and_why(agent, clock):
    ticket = await agent.open()
    await bring_to(agent, ticket["id"], S.RESOLVED)
    timeline = (await agent.get(f"/tickets/{ticket['id']}/timeline")).json()
    moves = [entry for entry in timeline if entry["action"] == "status_changed"]
    assert [(m["from_status"], m["to_status"]) for m in moves] == [
        ("new", "acknowledged"),
        ("acknowledged", "resolved"),
    ]
    assert all(m["actor"] == "agent@test" and m["actor_kind"] == "staff" for m in moves)
    assert [m["detail"] for m in moves] == ["to acknowledged", "to resolved"]
    assert all(m["at"] for m in moves)


async def test_an_owner_reopens_within_the_period_and_not_after(client_as, agent, clock):
    owner = new_owner()
    mine = client_as(owner)
    ticket = await mine.open()
    await bring_to(agent, ticket["id"], S.RESOLVED)
    reopened = await mine.move(ticket["id"], "in_progress", reason="still broken")
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status_label"] == {"en": "Engineer following up", "zh": "工程师跟进中"}

    await agent.move(ticket["id"], "resolved")
    clock.advance(days=15)  # the default period is 14 days
    late = await mine.move(ticket["id"], "in_progress", reason="broken again")
    assert late.status_code == 409
    assert "reopen period ended" in late.json()["detail"]
    assert (await mine.move(ticket["id"], "closed")).status_code == 200


async def test_an_owner_cannot_work_on_their_own_case(client_as):
    mine = client_as(new_owner())
    ticket = await mine.open()
    response = await mine.move(ticket["id"], "acknowledged")
    assert response.status_code == 409
    assert "an owner can only close or reopen" in response.json()["detail"]
