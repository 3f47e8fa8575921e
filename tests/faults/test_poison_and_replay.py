"""Events a consumer cannot handle end as dead letters and are replayed once fixed; a span
of the outbox replayed changes nothing that was already applied."""

import asyncio

from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from shared.messaging.replay import replay_dead_letters
from tests.faults.cli import cem
from tests.helpers import eventually
from tests.messaging.harness import (
    apply_effect,
    effect_counts,
    produce,
    running_pipeline,
    scalar,
    shorten_duplicate_window,
)


async def test_a_failing_event_is_dead_lettered_flow_continues_and_replay_applies_it_once(
    settings, private_nats
):
    broken = {3}  # the dependency event 3 needs is down, until the operator fixes it

    async def handler(session, envelope, event) -> None:
        if event.number in broken:
            raise RuntimeError(f"parts catalogue has no entry for {event.number}")
        await apply_effect(session, envelope, event)

    async with await running_pipeline(settings, private_nats.url, handler=handler) as pipeline:
        await produce(pipeline.producer, range(10))

        async def nine_applied_one_dead():
            dead = await scalar(pipeline.consumer, "SELECT count(*) FROM dead_letters")
            return (await effect_counts(pipeline.consumer))[0] == 9 and dead == 1

        await eventually(nine_applied_one_dead)
        async with pipeline.consumer.transaction() as session:
            letter = (await session.execute(text("SELECT * FROM dead_letters"))).one()
        assert letter.deliveries == pipeline.consumer_settings.max_deliver
        assert letter.reason.startswith("failed: RuntimeError('parts catalogue has no entry")
        assert letter.consumer == pipeline.durable

        await produce(pipeline.producer, range(10, 12))  # later events keep flowing

        async def eleven_applied():
            return (await effect_counts(pipeline.consumer))[0] == 11

        await eventually(eleven_applied)

        listed = await cem(settings, private_nats.url, "dead-letters", "list",
                           "--service", pipeline.consumer_service)  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        assert letter.event_id in listed.stdout and "parts catalogue" in listed.stdout

        broken.clear()
        replay = ("dead-letters", "replay", "--service", pipeline.consumer_service, "--all")
        replayed = await cem(settings, private_nats.url, *replay)
        assert replayed.returncode == 0, replayed.stderr
        assert replayed.stdout.split() == [str(letter.id)]

        async def twelve_applied():
            return (await effect_counts(pipeline.consumer))[0] == 12

        await eventually(twelve_applied)
        again = await replay_dead_letters(pipeline.consumer, pipeline.producer_nats.jetstream())
        assert again.replayed == [], "a replayed dead letter is not replayed twice"
        assert await effect_counts(pipeline.consumer) == (12, 12)
        assert (
            await scalar(
                pipeline.consumer, "SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL"
            )
            == 1
        )


async def test_replaying_an_hour_of_the_outbox_doubles_no_effect(settings, private_nats):
    async with await running_pipeline(settings, private_nats.url) as pipeline:
        await produce(pipeline.producer, range(100))

        async def all_applied():
            return (await effect_counts(pipeline.consumer))[0] == 100

        await eventually(all_applied)
        async with pipeline.producer.transaction() as session:
            # The first 40 events were recorded two hours ago, the other 60 within the hour.
            await session.execute(
                text("UPDATE outbox SET created_at = created_at - interval '2 hours' WHERE seq <= "
                     "(SELECT min(seq) + 39 FROM outbox)"),

            )  # fmt: skip
        # Past the broker's de-duplication, so every replayed event reaches the consumer.
        await shorten_duplicate_window(pipeline.producer_nats, 0.5)
        await asyncio.sleep(1.0)

        result = await cem(settings, private_nats.url, "outbox", "replay",
                           "--service", f"msgprod_{pipeline.tag}", "--since", "1h")  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "60"

        async def replay_delivered():
            return pipeline.handled("duplicate") == 60

        await eventually(replay_delivered)
        assert await effect_counts(pipeline.consumer) == (100, 100)


def test_replay_commands_refuse_bad_input_in_one_readable_line(settings):
    runner = CliRunner()
    environment = {"CEM_DATABASE_URL": settings.database_url,
                   "CEM_DATABASE_PREFIX": settings.database_prefix}  # fmt: skip
    since = runner.invoke(app, ["outbox", "replay", "--service", "tickets", "--since", "soon"])
    choice = runner.invoke(app, ["dead-letters", "replay", "--service", "tickets"])
    missing = runner.invoke(
        app, ["dead-letters", "list", "--service", "no_such_service"], env=environment
    )
    assert since.exit_code == 2 and "--since" in since.output
    assert choice.exit_code == 2 and "--id" in choice.output and "--all" in choice.output
    assert missing.exit_code == 1 and "No such database" in missing.output
    assert missing.exception is None or isinstance(missing.exception, SystemExit)
