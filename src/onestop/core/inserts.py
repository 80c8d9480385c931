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

import functools
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

M = TypeVar("M", bound=models.Model)


# Fields whose value goes to the database as it is when it already has the field's
# Python type (their get_db_prep_save returns it unchanged): exact classes only, so a
# subclass with its own conversion takes the general path.
_AS_IS: dict[type[Field[Any, Any]], type] = {
    **dict.fromkeys((models.CharField, models.TextField, models.EmailField,
                     models.SlugField, models.URLField), str),
    **dict.fromkeys((models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                     models.PositiveIntegerField, models.PositiveSmallIntegerField,
                     models.PositiveBigIntegerField), int),
    models.BooleanField: bool,
}


def _as_is(field: Field[Any, Any]) -> type | None:
    """The Python type whose values this field stores unchanged, if any: exact field
    classes only, as a subclass may prepare its values its own way."""
    if type(field) is models.ForeignKey:
        target = cast("models.ForeignKey[Any, Any]", field).target_field
        if type(target) in (models.AutoField, models.BigAutoField):
            return int
        return _AS_IS.get(type(target))
    return _AS_IS.get(type(field))


@functools.lru_cache(maxsize=256)
def _statement(
    model: type[models.Model], count: int, connection: BaseDatabaseWrapper
) -> tuple[list[tuple[Field[Any, Any], type | None]], str]:
    """The fields written (each with the type it takes as it is) and the INSERT of
    `count` rows of `model` (built once)."""
    opts = model._meta
    fields = [f for f in opts.local_concrete_fields if f is not opts.pk]
    quote = connection.ops.quote_name
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608
        f" VALUES {', '.join([row_sql] * count)} RETURNING {quote(opts.pk.column)}"
    )
    return [(f, _as_is(f)) for f in fields], sql


def insert_new(objs: Sequence[M], *, using: str | None = None) -> list[M]:
    """Insert `objs` (new instances of one model, primary keys unset) and set their
    primary keys; returns them as a list."""
    rows = list(objs)
    if not rows:
        return rows
    model = type(rows[0])
    if any(type(obj) is not model for obj in rows):
        raise TypeError("insert_new takes instances of one model")
    if any(obj.pk is not None for obj in rows):
        raise ValueError("insert_new inserts new rows: leave the primary key unset")
    db = using or router.db_for_write(model)
    connection = connections[db]
    if connection.vendor != "postgresql":
        return model._default_manager.db_manager(db).bulk_create(rows)
    fields, sql = _statement(model, len(rows), connection)
    params: list[Any] = []
    for obj in rows:
        # a foreign key given as an object saved since it was assigned (as save() does)
        obj._prepare_related_fields_for_save(operation_name="insert_new")  # type: ignore[attr-defined]
        for field, plain in fields:
            if plain is None:
                params.append(
                    field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
                )
                continue
            value = getattr(obj, field.attname)  # Field.pre_save, which these inherit
            if value is None or type(value) is plain:
                params.append(value)
            else:
                params.append(field.get_db_prep_save(value, connection=connection))
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
