"""Privacy: an owner exports what journeys holds about them (nobody else's); erasure removes
it, answers profile in the same transaction, and later news about the owner is dropped."""

import uuid
from datetime import UTC, datetime

import pytest

from shared.contracts.profile import ConsentChanged, OwnerErasureRequested, OwnersMerged
from tests.helpers import staff_exports_recorded
from tests.journeys.conftest import (
    ADMIN,
    deliver,
    make_owner,
    message_journey,
    owner_caller,
    rows,
    scalar,
    unique,
)


@pytest.fixture
async def contacted(journeys_app, publisher, marketer, steps):
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment], vehicle=True)
    key = unique("private")
    await marketer.activate(message_journey(key, audience={"segment": segment}))
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    await steps.run_once()
    return owner


async def test_an_owner_exports_their_own_data_only_and_staffs_exports_are_audited(
    contacted, client_as, marketer, agent, journeys_app
):
    owner_id = contacted["owner_id"]
    export = await client_as(owner_caller(owner_id)).ok("GET", f"/privacy/owners/{owner_id}/export")
    assert export["owner_id"] == str(owner_id)
    assert len(export["messages"]) == 1 and len(export["deliveries"]) == 1
    assert export["vehicles"][0]["vin"] == contacted["vin"]
    assert [c["purpose"] for c in export["consents"]] == ["marketing"]
    assert export["decisions"][0]["reason"] == "sent"
    stranger = client_as(owner_caller(uuid.uuid4()))
    response = await stranger.get(f"/privacy/owners/{owner_id}/export")
    assert response.status_code == 404 and response.json()["code"] == "owner_not_found"
    assert (await marketer.get(f"/privacy/owners/{owner_id}/export")).status_code == 403
    assert (await agent.get(f"/privacy/owners/{owner_id}/export")).status_code == 200
    assert (await client_as(ADMIN).get(f"/privacy/owners/{owner_id}/export")).status_code == 200
    # For the owner's audit log: the staff's exports, not the owner's own, not the refused.
    assert await staff_exports_recorded(journeys_app, "journeys", owner_id) == [
        ("agent@test", ["cx_agent"]), ("admin@test", ["admin"]),
    ]  # fmt: skip


async def test_erasure_removes_the_owner_and_confirms(
    contacted, journeys_app, publisher, client_as
):
    owner_id = contacted["owner_id"]
    request = OwnerErasureRequested(request_id=uuid.uuid4(), owner_id=owner_id,
                                    requested_at=datetime.now(UTC))  # fmt: skip
    [envelope] = await deliver(journeys_app, publisher, "erasure_requested", request)
    await publisher(None, envelope=envelope, msg_id=uuid.uuid4())  # redelivered
    await deliver(journeys_app, publisher, "erasure_requested", request)  # asked again
    for table in ("messages", "deliveries", "decisions", "journey_instances", "owner_consents"):
        assert await scalar(journeys_app, f"SELECT count(*) FROM {table} WHERE owner_id = :o",
                            o=owner_id) == 0, table  # fmt: skip
    confirmations = await rows(
        journeys_app, "SELECT envelope->'data' AS data FROM outbox WHERE subject = :s "
        "AND envelope->>'ownerid' = :o", s="cem.journeys.erasure.completed.v1", o=str(owner_id),
    )  # fmt: skip
    assert len(confirmations) == 1
    data = confirmations[0]["data"]
    assert data["request_id"] == str(request.request_id) and data["records_erased"] >= 5

    # Late news about the erased owner among news about others (as one fetch would hold
    # them, asked about together): only the erased owner's is dropped.
    others = [uuid.uuid4(), uuid.uuid4()]
    news = [_marketing_consent(owner) for owner in (others[0], owner_id, others[1])]
    await deliver(journeys_app, publisher, "consent_changed", *news)
    consented = await rows(journeys_app, "SELECT owner_id FROM owner_consents "
                           "WHERE owner_id = ANY(:o)", o=[owner_id, *others])  # fmt: skip
    assert sorted(row["owner_id"] for row in consented) == sorted(others)
    assert await client_as(owner_caller(owner_id)).inbox() == []


def _marketing_consent(owner_id: uuid.UUID) -> ConsentChanged:
    return ConsentChanged(
        owner_id=owner_id,
        purpose="marketing",
        channel="sms",
        granted=True,
        notice_version="1",
        source="app",
        changed_at=datetime.now(UTC),
    )


async def test_a_merged_owner_becomes_the_survivor(
    contacted, journeys_app, publisher, client_as, agent
):
    survivor = await make_owner(journeys_app, publisher, marketing=[])
    merged_id, survivor_id = contacted["owner_id"], survivor["owner_id"]
    merge = OwnersMerged(survivor_owner_id=survivor_id, merged_owner_id=merged_id,
                         matched_on=["phone"], merged_at=datetime.now(UTC))  # fmt: skip
    await deliver(journeys_app, publisher, "owners_merged", merge)
    assert await client_as(owner_caller(merged_id)).inbox() == []
    [message] = await client_as(owner_caller(survivor_id)).inbox()
    assert message["template_key"] == "onboarding_tips"
    log = await agent.ok("GET", f"/owners/{survivor_id}/decisions")
    assert [d["reason"] for d in log["items"]] == ["sent"]
    consents = await rows(journeys_app, "SELECT purpose, channel FROM owner_consents "
                          "WHERE owner_id = :o", o=survivor_id)  # fmt: skip
    assert [(c["purpose"], c["channel"]) for c in consents] == [("marketing", "app_push")]
    assert await scalar(journeys_app, "SELECT count(*) FROM known_owners WHERE id = :o",
                        o=merged_id) == 0  # fmt: skip
