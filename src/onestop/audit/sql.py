"""Append-only tables on PostgreSQL: a trigger that refuses UPDATE and DELETE.

Reuse it for any table whose rows must never change once written (the audit chain, the
application event log). In a migration, after the table is created:

    from onestop.audit.sql import append_only

    operations = [..., append_only("applications_event")]

`append_only` runs the SQL on PostgreSQL only and is reversible; `append_only_sql` gives
the SQL itself. The trigger raises SQLSTATE 23001 (restrict_violation), which Django
raises as `IntegrityError`. TRUNCATE is not refused: it needs the table owner's
privilege, who could drop the trigger anyway, and the test suite empties tables with it.
A DBA who must repair a table runs `ALTER TABLE … DISABLE TRIGGER USER` in the same
transaction, deliberately and visibly.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import migrations

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
_SUFFIX = "_append_only"


def append_only_sql(table: str) -> tuple[str, str]:
    """(forward, reverse) SQL creating and dropping the append-only trigger on `table`."""
    if not _IDENTIFIER.fullmatch(table) or len(table) + len(_SUFFIX) > _MAX_IDENTIFIER:
        raise ValueError(
            f"{table!r}: give a lowercase table name of at most "
            f"{_MAX_IDENTIFIER - len(_SUFFIX)} characters (letters, digits, underscores)"
        )
    name = f"{table}{_SUFFIX}"
    forward = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'rows of this table are never changed or deleted';
END
$body$;
CREATE TRIGGER {name}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    reverse = f"""
DROP TRIGGER IF EXISTS {name} ON {table};
DROP FUNCTION IF EXISTS {name}();
"""
    return forward, reverse


class PostgreSQLOnlyRunSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and is a no-op on every other database."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def append_only(table: str) -> PostgreSQLOnlyRunSQL:
    """A reversible migration operation making `table` append-only on PostgreSQL."""
    forward, reverse = append_only_sql(table)
    return PostgreSQLOnlyRunSQL(sql=forward, reverse_sql=reverse, elidable=False)
