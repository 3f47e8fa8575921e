"""Row-level security, the backstop behind the application's own dealer scoping: every table
with a dealer column has it (enabled, forced, a policy), the services run as a role it binds,
and the isolation matrix still holds with the application's scoping switched off."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from cli.embedded import EmbeddedNats, free_port
from cli.launcher import Platform, components
from services.profile.config import MIGRATIONS_DIR
from services.profile.models import Dealer
from shared.config import CommonSettings
from shared.database import Database, application_url, every_dealer
from shared.migrations import upgrade
from shared.scoping import EVERY_DEALER, NO_DEALER, RowScope
from tests.security import test_isolation_matrix as matrix
from tests.security.conftest import group_keys_of, merged_openapi, seed_two

# A dealer column: `dealer_id` or `<something>_dealer_id`, or the `id` of a table of dealers.
TABLES_WITH_A_DEALER_COLUMN = r"""
SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
    (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND EXISTS (
    SELECT FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      AND (a.attname ~ '(^|_)dealer_id$' OR (a.attname = 'id' AND c.relname ~ '(^|_)dealers$'))
  )
ORDER BY c.relname
"""
# Why a role would not be bound by the policies of the database it is connected to.
UNBOUND = """
SELECT r.rolsuper, r.rolbypassrls,
    EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
            AND pg_has_role(r.oid, c.relowner, 'USAGE')) AS owns_tables
FROM pg_roles r WHERE r.rolname = $1
"""


def platform_settings(platform: Platform) -> CommonSettings:
    return platform._settings()


async def owner_connection(settings: CommonSettings, component: str) -> asyncpg.Connection:
    return await asyncpg.connect(settings.database_url, database=settings.database_name(component))


async def test_every_table_with_a_dealer_column_has_row_level_security_forced_with_a_policy(
    platform,
):
    settings = platform_settings(platform)
    found, unguarded = {}, []
    for component in components():
        connection = await owner_connection(settings, component.name)
        try:
            tables = await connection.fetch(TABLES_WITH_A_DEALER_COLUMN)
        finally:
            await connection.close()
        found[component.name] = {table["name"] for table in tables}
        unguarded += [
            f"{component.name}.{table['name']}: enabled={table['enabled']} "
            f"forced={table['forced']} policies={table['policies']}"
            for table in tables
            if not (table["enabled"] and table["forced"] and table["policies"])
        ]
    assert not unguarded, "\n".join(unguarded)
    # The query finds what it should: the tenant tables everyone knows are among them.
    assert {"orders", "service_visits", "owner_dealers", "dealers"} <= found["profile"]
    assert "tickets" in found["tickets"] and "responses" in found["feedback"]
    assert "vehicles" in found["telematics"] and "api_keys" in found["gateway"]


async def test_services_connect_as_a_role_that_neither_owns_the_tables_nor_bypasses_them(
    platform,
):
    settings = platform_settings(platform)
    role = application_url(settings, "profile").username
    names = [settings.database_name(component.name) for component in components()]
    async with httpx.AsyncClient(timeout=30) as client:  # readiness opens a pool connection
        for component in components():
            assert (await client.get(f"{platform.url(component.name)}/readyz")).is_success
    connection = await asyncpg.connect(settings.database_url)
    try:
        users = await connection.fetch(
            "SELECT DISTINCT usename FROM pg_stat_activity "
            "WHERE datname = ANY($1) AND pid <> pg_backend_pid()",
            names,
        )
    finally:
        await connection.close()
    assert {user["usename"] for user in users} == {role}
    for component in components():
        connection = await owner_connection(settings, component.name)
        try:
            unbound = await connection.fetchrow(UNBOUND, role)
        finally:
            await connection.close()
        assert dict(unbound) == {"rolsuper": False, "rolbypassrls": False, "owns_tables": False}


@pytest.fixture(scope="module")
async def profile_database(infrastructure):
    """Profile's tables on a database of the test's own, reached as the application role."""
    settings = infrastructure.settings().model_copy(
        update={"database_prefix": f"{infrastructure.database_prefix}_rls"}
    )
    await asyncio.to_thread(upgrade, "profile", MIGRATIONS_DIR, settings)
    database = Database(application_url(settings, "profile"), pool_size=2)
    yield database
    await database.dispose()


def a_dealer(code: str) -> Dealer:
    return Dealer(id=uuid.uuid4(), code=code, name=code, city="Shanghai", region="East")


async def test_a_transaction_sees_and_writes_only_the_rows_of_its_scope(profile_database):
    mine, theirs = a_dealer(f"M{uuid.uuid4().hex[:8]}"), a_dealer(f"T{uuid.uuid4().hex[:8]}")
    both = {mine.id, theirs.id}
    async with profile_database.transaction(EVERY_DEALER) as session:
        session.add_all([mine, theirs])

    async def visible(scope: RowScope) -> set[uuid.UUID]:
        async with profile_database.transaction(scope) as session:
            return set(await session.scalars(select(Dealer.id).where(Dealer.id.in_(both))))

    assert await visible(EVERY_DEALER) == both
    assert await visible(RowScope(frozenset({mine.id}))) == {mine.id}
    assert await visible(NO_DEALER) == set()
    with pytest.raises(DBAPIError, match="row-level security"):
        async with profile_database.transaction(RowScope(frozenset({mine.id}))) as session:
            session.add(a_dealer(f"X{uuid.uuid4().hex[:8]}"))


async def test_every_dealer_widens_the_scope_for_its_block_only(profile_database):
    mine, theirs = a_dealer(f"M{uuid.uuid4().hex[:8]}"), a_dealer(f"T{uuid.uuid4().hex[:8]}")
    counted = select(func.count()).where(Dealer.id.in_([mine.id, theirs.id]))
    async with profile_database.transaction(EVERY_DEALER) as session:
        session.add_all([mine, theirs])
    async with profile_database.transaction(RowScope(frozenset({mine.id}))) as session:
        assert await session.scalar(counted) == 1
        async with every_dealer(session):
            assert await session.scalar(counted) == 2
        assert await session.scalar(counted) == 1


# The isolation matrix on a platform whose services skip `in_visible_dealers`.


@pytest.fixture(scope="module")
def unscoped_platform(infrastructure, tmp_path_factory):
    folder = tmp_path_factory.mktemp("unscoped-platform")
    ports = {component.name: free_port() for component in components()}
    with EmbeddedNats(folder / "nats") as nats:
        own = infrastructure.isolated(nats.url)
        own.database_prefix += "unscoped"
        environment = {
            **own.environment(),
            "CEM_LOG_LEVEL": "WARNING",
            "CEM_APPLICATION_SCOPING": "off",
        }
        with Platform(folder, ports=ports, environment=environment, echo=False) as platform:
            yield platform


@pytest.fixture(scope="module")
async def unscoped(unscoped_platform):
    """(edge, openapi, tenants) as the matrix's own fixtures, on that platform."""
    async with httpx.AsyncClient(base_url=unscoped_platform.gateway_url, timeout=60) as edge:
        yield edge, await merged_openapi(edge), await seed_two(edge)


@pytest.fixture(scope="module")
async def unscoped_group_keys(unscoped) -> tuple[dict[str, str], dict[str, str]]:
    edge, _, tenants = unscoped
    return await group_keys_of(edge, tenants)


@pytest.mark.timeout(900)
async def test_the_matrix_holds_with_the_applications_dealer_scoping_off(unscoped):
    await matrix.test_another_dealers_or_owners_records_are_404(*unscoped)


async def test_with_scoping_off_a_dealers_lists_hold_only_its_own(unscoped):
    """The lists too, not only reads by id: what one dealer lists, the other never does."""
    edge, _, (stranger, victim) = unscoped
    for path in ("/v1/profile/owners", "/v1/profile/vehicles", "/v1/tickets/tickets"):
        theirs = await edge.get(path, headers=victim.dealer.headers)
        mine = await edge.get(path, headers=stranger.dealer.headers)
        assert theirs.status_code == mine.status_code == 200, (theirs.text, mine.text)
        their_ids = {item["id"] for item in theirs.json()["items"]}
        assert their_ids and not their_ids & {item["id"] for item in mine.json()["items"]}


async def test_dealer_group_keys_hold_with_the_applications_dealer_scoping_off(
    unscoped, unscoped_group_keys
):
    await matrix.test_a_dealer_groups_key_sees_its_dealers_records_and_no_other(
        *unscoped, unscoped_group_keys
    )
