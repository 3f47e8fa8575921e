"""The application role: what services connect as at run time (`CEM_APP_DATABASE_URL`).

It is neither the owner of the tables (nor a member of the owner's role) nor a superuser nor
exempt from row-level security, so the policies the migrations install bind every query it
runs. `provide_application_role()` runs after each component's migrations, as the owner:
it creates the role when missing and the owner may (the embedded server, the tests), and
grants it the use of the component's tables and sequences, now and as the owner adds more.
"""

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from shared.config import CommonSettings
from shared.database import service_url

log = structlog.get_logger("migrations")

_CREATE_ROLE = (
    "SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
    "PASSWORD %L', $1::text, $2::text)"
)
# Formatted with the quoted role and database names.
_GRANTS = (
    "GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    # Tables the owner creates later (telematics' monthly partitions) are usable at once.
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
)
# The migrations' own bookkeeping is not the application's (absent from tables a test made).
_REVOKE_MIGRATIONS = "REVOKE ALL ON alembic_version FROM {role}"
# Why the role would not be bound by the policies, if it would not.
_UNBOUND = """
SELECT concat_ws('; ',
    CASE WHEN r.rolsuper THEN 'it is a superuser' END,
    CASE WHEN r.rolbypassrls THEN 'it bypasses row-level security' END,
    CASE WHEN EXISTS (
        SELECT FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND pg_has_role(r.oid, c.relowner, 'USAGE')
    ) THEN 'it owns tables (or is a member of their owner''s role)' END)
FROM pg_roles r WHERE r.rolname = $1
"""


class ApplicationRoleError(RuntimeError):
    pass


async def provide_application_role(settings: CommonSettings, component: str) -> None:
    application = make_url(settings.application_database_url())
    role = application.username or ""
    owner = service_url(settings, component)
    connection = await asyncpg.connect(
        host=owner.host,
        port=owner.port,
        user=owner.username,
        password=owner.password,
        database=owner.database,
    )
    try:
        await _create_if_missing(connection, role, application.password)
        names = await connection.fetchrow(
            "SELECT quote_ident($1) AS role, quote_ident(current_database()) AS database", role
        )
        async with connection.transaction():
            for grant in _GRANTS:
                await connection.execute(grant.format(**names))
            if await connection.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
                await connection.execute(_REVOKE_MIGRATIONS.format(**names))
        await _check_bound(connection, role, settings)
    finally:
        await connection.close()


async def _create_if_missing(
    connection: asyncpg.Connection, role: str, password: str | None
) -> None:
    if await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
        return
    try:
        await connection.execute(await connection.fetchval(_CREATE_ROLE, role, password))
    except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
        pass  # created by a migration running beside this one
    except asyncpg.InsufficientPrivilegeError as error:
        raise ApplicationRoleError(
            f"The application role {role!r} does not exist and the migrations' role may not "
            "create it: create it (LOGIN, NOSUPERUSER, NOBYPASSRLS) or name an "
            "existing one in CEM_APP_DATABASE_URL"
        ) from error


async def _check_bound(connection: asyncpg.Connection, role: str, settings: CommonSettings) -> None:
    """Refused outside development; a warning in development (a benchmark without RLS)."""
    unbound = await connection.fetchval(_UNBOUND, role)
    if not unbound:
        return
    problem = f"The application role {role!r} is not bound by row-level security: {unbound}"
    if not settings.environment.is_development:
        raise ApplicationRoleError(problem)
    log.warning("application_role_unbound", role=role, reason=unbound)
