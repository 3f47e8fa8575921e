"""Row-level security on the dealer dimension: the SQL the migrations install.

Every table with a dealer column gets one policy, `dealer_rows`, and row-level security
ENABLED and FORCED (so the tables' owner is bound too, unless a superuser). Three kinds:

- `dealer_rows(*columns)`: the dealer's own rows. A row is visible, and may be
  written, when the transaction's scope is every dealer's (`cem.scope = 'all'`) or one of
  the columns names a dealer of its scope (`cem.dealer_ids`). A row with no dealer is in no
  dealer's scope.
- `parent_rows(parent, key)`: a part of a parent's row (a case's SLA clock): visible
  with its parent, whose own policy decides.
- `shared_rows()`: records the dealer column only mentions (a vehicle serviced anywhere,
  projections of other services' facts, routing configuration): any scope reads them.

With no scope set at all (a connection that skipped `Database.transaction()`): no rows.

A revision names its tables' conditions (`{"orders": dealer_rows("dealer_id")}`) and calls
`enable()` in `upgrade()`, `disable()` in `downgrade()`. What these produce must not change
once a revision using them has shipped (add a new function instead), so that old revisions
replay the same.
"""

from collections.abc import Mapping

from alembic import op

POLICY = "dealer_rows"

# Read once per statement: the policies call them inside scalar subqueries (InitPlans).
SCOPE_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION cem_sees_every_dealer() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('cem.scope', true) = 'all', false) $$
""",
    """
CREATE OR REPLACE FUNCTION cem_visible_dealers() RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN current_setting('cem.scope', true) = 'dealers'
    THEN coalesce(nullif(current_setting('cem.dealer_ids', true), ''), '{}')::uuid[]
    ELSE '{}'::uuid[] END $$
""",
    """
CREATE OR REPLACE FUNCTION cem_scope_is_set() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('cem.scope', true) IN ('all', 'dealers'), false) $$
""",
]
DROP_SCOPE_FUNCTIONS = [
    f"DROP FUNCTION IF EXISTS {name}()"
    for name in ("cem_scope_is_set", "cem_visible_dealers", "cem_sees_every_dealer")
]


def dealer_rows(*columns: str) -> str:
    own = " OR ".join(
        f"{column} = ANY ((SELECT cem_visible_dealers())::uuid[])" for column in columns
    )
    return f"(SELECT cem_sees_every_dealer()) OR {own}"


def parent_rows(parent: str, key: str) -> str:
    return (
        f"(SELECT cem_sees_every_dealer()) OR EXISTS "
        f"(SELECT FROM {parent} WHERE {parent}.id = {{table}}.{key})"
    )


def shared_rows() -> str:
    return "(SELECT cem_scope_is_set())"


def enable(policies: Mapping[str, str]) -> None:
    """In a revision's `upgrade()`: the functions, then each table's (name -> condition)."""
    statements = list(SCOPE_FUNCTIONS)
    for table, condition in policies.items():
        condition = condition.format(table=table)
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})",
        ]
    _execute(statements)


def disable(policies: Mapping[str, str]) -> None:
    """In the same revision's `downgrade()`."""
    statements = []
    for table in policies:
        statements += [
            f"DROP POLICY IF EXISTS {POLICY} ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ]
    _execute([*statements, *DROP_SCOPE_FUNCTIONS])


def _execute(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)
