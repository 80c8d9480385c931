"""Insert a few new rows of one model in one statement, for the hot write paths (a
submission writes its events and its outbox messages this way).

On PostgreSQL: one `INSERT … VALUES (…), (…) RETURNING id`, each value prepared by its
field exactly as `Model.save` prepares it. Django's `bulk_create` sends the rows as
arrays through `UNNEST` there, which psycopg escapes character by character in Python:
on the small JSON documents of events and messages that costs several times the
statement itself. Elsewhere: `bulk_create`. Like `bulk_create`, no model signals are sent
(onestop has none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)


def insert_new(objs: Sequence[M], *, using: str | None = None) -> list[M]:
    """Insert `objs` (new instances of one model, primary keys unset) and set their
    primary keys; returns them as a list."""
    rows = list(objs)
    if not rows:
        return rows
    model = type(rows[0])
    if any(type(obj) is not model for obj in rows):
        raise TypeError("insert_new takes instances of one model")
    opts = model._meta
    if any(obj.pk is not None for obj in rows):
        raise ValueError("insert_new inserts new rows: leave the primary key unset")
    db = using or router.db_for_write(model)
    connection = connections[db]
    if connection.vendor != "postgresql":
        return model._default_manager.db_manager(db).bulk_create(rows)
    fields = [f for f in opts.local_concrete_fields if f is not opts.pk]
    quote = connection.ops.quote_name
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608
        f" VALUES {', '.join([row_sql] * len(rows))} RETURNING {quote(opts.pk.column)}"
    )
    params: list[Any] = []
    for obj in rows:
        for field in fields:
            params.append(
                field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
            )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(rows):  # pragma: no cover (INSERT … RETURNING returns every row)
        raise RuntimeError("the database returned fewer ids than rows inserted")
    for obj, pk in zip(rows, ids, strict=True):  # VALUES rows come back in their order
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db
    return rows
