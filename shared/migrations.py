"""Alembic per service: `upgrade()` for the CLI and tests, `run_env()` for each env.py.

Migrations run as the owner of the tables (`CEM_DATABASE_URL`'s user); `upgrade()` then
grants the application role (`shared.application_role`) what the running service needs.
"""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.application_role import provide_application_role
from shared.config import CommonSettings
from shared.database import create_database_if_missing, service_url

FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"


def alembic_config(component: str, migrations_dir: Path, settings: CommonSettings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option(
        "sqlalchemy.url", service_url(settings, component).render_as_string(hide_password=False)
    )
    return config


def upgrade(component: str, migrations_dir: Path, settings: CommonSettings) -> None:
    """Creates the component's database if needed, migrates it to head and grants the
    application role its use (sync, own loop)."""
    asyncio.run(create_database_if_missing(settings, component))
    command.upgrade(alembic_config(component, migrations_dir, settings), "head")
    asyncio.run(provide_application_role(settings, component))


def _only_modelled_tables(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate never proposes dropping a table the models don't declare: such tables
    (e.g. telematics' partitions, created in SQL) are managed by hand-written migrations."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")

    def run(connection: Connection) -> None:
        # A data migration sees every dealer's rows, should the owner not bypass the policies.
        connection.exec_driver_sql("SELECT set_config('cem.scope', 'all', false)")
        connection.commit()  # a session setting; alembic then begins its own transaction
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            include_object=_only_modelled_tables,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(run_async())
