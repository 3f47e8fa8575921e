"""An event handler asks what the definitions say about an event, and whether any instance
waits for it, once a transaction: the events of one fetch share it, and each would otherwise
ask again."""

from sqlalchemy import event

from services.journeys.repository import JourneysRepository
from shared.database import Database


async def test_definition_questions_are_asked_once_a_transaction(journeys_app):
    # An engine of the test's own: the app's consumers ask too, for earlier tests' events.
    database = Database(journeys_app.state.database.engine.url, pool_size=1)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM journey_definitions" in statement and (
            "trigger_event = " in statement or "AS anon_1" in statement
        ):
            statements.append(statement)
        if "waiting_event = " in statement and "EXISTS" in statement:
            statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        for _ in range(2):  # two transactions, as two fetches
            async with database.transaction() as session:
                repository = JourneysRepository(session)
                for _ in range(3):  # three events of the fetch
                    await repository.active_goals("profile.vehicle.registered")
                    await repository.active_triggered_by("profile.vehicle.registered")
                    await repository.anyone_waiting_for("profile.vehicle.registered")
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
        await database.dispose()
    assert len(statements) == 6  # each question once in each transaction
