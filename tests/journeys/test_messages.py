"""Messages: the owner's inbox (their own only), templates in Chinese and English with
personalisation, pluggable senders with delivery and read status, and exactly-once sending."""

import uuid

import pytest

from services.journeys.service import deliveries as delivery_service
from services.journeys.timers import DeliveryWorker
from tests.journeys.conftest import (
    make_owner,
    message_journey,
    owner_caller,
    rows,
    scalar,
    unique,
)


@pytest.fixture
async def greeted(journeys_app, publisher, marketer, steps):
    """Two owners (one Chinese-speaking) who were each sent one message by a run."""
    segment = unique("seg")
    english = await make_owner(journeys_app, publisher, segments=[segment])
    chinese = await make_owner(journeys_app, publisher, segments=[segment], language="zh")
    key = unique("ota")
    spec = message_journey(key, audience={"segment": segment})
    spec["steps"][0]["template"] = "ota_article"
    await marketer.activate(spec)
    context = {"release_version": "3.2", "release_summary": "faster parking",
               "article_link": "https://cem.dev/ota/3.2"}  # fmt: skip
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={"context": context})
    await steps.run_once()
    return english["owner_id"], chinese["owner_id"]


async def test_each_owner_reads_their_own_message_in_their_language(greeted, client_as):
    english, chinese = greeted
    [mine] = await client_as(owner_caller(english)).inbox()
    assert mine["title"] == "What's new in 3.2"
    assert mine["body"] == "A deep dive into 3.2: faster parking"
    assert mine["link"] == "https://cem.dev/ota/3.2"
    assert mine["deliveries"] == [
        {"channel": "app_push", "status": "queued", "not_before": mine["created_at"],
         "sent_at": None}
    ]  # fmt: skip
    [theirs] = await client_as(owner_caller(chinese)).inbox()
    assert theirs["title"] == "3.2 新功能深度解读" and theirs["language"] == "zh"


async def test_the_inbox_is_isolated_between_owners(greeted, client_as, marketer, clock):
    english, chinese = greeted
    alice, bob = client_as(owner_caller(english)), client_as(owner_caller(chinese))
    [message] = await alice.inbox()
    assert all(m["id"] != message["id"] for m in await bob.inbox())
    stolen = await bob.post(f"/messages/{message['id']}/read")
    assert stolen.status_code == 404 and stolen.json()["code"] == "message_not_found"
    assert (await alice.ok("GET", "/messages", params={"unread": True}))["total"] == 1

    read = await alice.ok("POST", f"/messages/{message['id']}/read")
    assert read["read_at"] == clock().isoformat().replace("+00:00", "Z")
    assert (await alice.ok("GET", "/messages", params={"unread": True}))["total"] == 0
    assert (await marketer.get("/messages")).status_code == 403
    assert (await alice.post(f"/messages/{uuid.uuid4()}/read")).status_code == 404


async def test_deliveries_are_sent_once_and_their_status_shown(
    greeted, journeys_app, client_as, deliveries, clock
):
    english, _ = greeted
    await deliveries.run_once()
    await deliveries.run_once()
    [message] = await client_as(owner_caller(english)).inbox()
    [push] = message["deliveries"]
    assert push["status"] == "sent" and push["sent_at"] is not None
    sender = journeys_app.state.senders["app_push"]
    sent = [r for r in sender.sent.values() if r.outgoing.owner_id == english]
    assert len(sent) == 1 and sent[0].attempts == 1
    assert sent[0].outgoing.payload["title"] == "What's new in 3.2"
    announced = await scalar(
        journeys_app,
        "SELECT count(*) FROM outbox WHERE subject = 'cem.journeys.message.sent.v1' "
        "AND envelope->>'ownerid' = :o",
        o=str(english),
    )
    assert announced == 2  # the inbox, then the push


async def test_a_crash_after_the_provider_accepted_does_not_send_twice(
    greeted, journeys_app, clock
):
    english, _ = greeted
    database, senders = journeys_app.state.database, journeys_app.state.senders
    rules = journeys_app.state.delivery_rules

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with database.transaction() as session:
            await delivery_service.deliver_due(
                session, senders=senders, now=clock(), limit=1000, rules=rules
            )
            raise Crash  # the provider has it; our commit never happens
    async with database.transaction() as session:
        await delivery_service.deliver_due(
            session, senders=senders, now=clock(), limit=1000, rules=rules
        )
    sent = [r for r in senders["app_push"].sent.values() if r.outgoing.owner_id == english]
    # Asked twice with the same idempotency key, recorded (sent) once.
    assert len(sent) == 1 and sent[0].attempts == 2
    status = await rows(journeys_app, "SELECT status FROM deliveries WHERE owner_id = :o",
                        o=english)  # fmt: skip
    assert [r["status"] for r in status] == ["sent"]


async def test_message_templates_are_data(marketer, journeys_app, publisher, steps, client_as):
    key = unique("tpl")
    bad = await marketer.put(f"/message-templates/{key}",
                             json={"variants": {"zh": {"title": "t", "body": "b"}}})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.variants"
    broken = {"variants": {"en": {"title": "Hi {name", "body": "b"}}}
    assert (await marketer.put(f"/message-templates/{key}", json=broken)).status_code == 422
    body = {
        "variants": {
            "en": {"title": "Hello {model} owner", "body": "Your {model}."},
            "zh": {"title": "{model} 车主您好", "body": "您的 {model}。"},
        }
    }
    await marketer.ok("PUT", f"/message-templates/{key}", json=body)

    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment], language="zh")
    journey = unique("custom")
    spec = message_journey(journey, category="service", audience={"segment": segment})
    spec["steps"][0]["template"] = key
    await marketer.activate(spec)
    await marketer.ok("POST", f"/definitions/{journey}/runs", 201,
                      json={"context": {"model": "ET7"}})  # fmt: skip
    await steps.run_once()
    [message] = await client_as(owner_caller(owner["owner_id"])).inbox()
    assert message["title"] == "ET7 车主您好"


async def test_a_failing_provider_is_retried_with_backoff_then_given_up(
    journeys_app, publisher, marketer, steps, deliveries, clock, client_as
):
    await deliveries.run_once()  # nothing else is due now
    segment = unique("seg")
    owner = await make_owner(journeys_app, publisher, segments=[segment])
    key = unique("down")
    await marketer.activate(message_journey(key, category="service",
                                            audience={"segment": segment}))  # fmt: skip
    await marketer.ok("POST", f"/definitions/{key}/runs", 201, json={})
    await steps.run_once()

    class ProviderDown:
        async def send(self, outgoing) -> str:
            raise ConnectionError("provider down")

    failing = DeliveryWorker(journeys_app.state.database, clock=clock,
                             senders={"app_push": ProviderDown()},
                             rules=journeys_app.state.delivery_rules)  # fmt: skip
    query = "SELECT status, attempts, error FROM deliveries WHERE owner_id = :o"
    await failing.run_once()
    await failing.run_once()  # backing off: not due again yet
    [row] = await rows(journeys_app, query, o=owner["owner_id"])
    assert (row["status"], row["attempts"]) == ("queued", 1)
    for _ in range(4):
        clock.advance(minutes=20)
        await failing.run_once()
    [row] = await rows(journeys_app, query, o=owner["owner_id"])
    assert (row["status"], row["attempts"]) == ("failed", 5)
    assert "provider down" in row["error"]
    [message] = await client_as(owner_caller(owner["owner_id"])).inbox()
    assert message["deliveries"][0]["status"] == "failed"
