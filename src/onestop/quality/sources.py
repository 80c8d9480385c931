"""Where the assessment reads from: the live database or a lake of Parquet files.

`live_tables(country, on)` gives Ibis tables over Django's own database connection (the
SQLite file or the PostgreSQL database of `ONESTOP_DATABASE_URL`), so a run reads the
same transaction as the rest of the request or command. `lake_tables(folder)` gives
DuckDB tables over the Parquet files that `export_lake(folder)` wrote. Both present the
same columns (COLUMNS), with times as naive UTC, so `onestop.quality.indicators` runs the
same expressions on either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dtypes
import ibis.expr.types as ir
import pyarrow.parquet as pq
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from ibis.backends.sqlite import Backend as SQLiteBackend
from ibis.backends.sqlite.udf import register_all

from onestop.applications.models import Application
from onestop.catalogue.models import Country
from onestop.catalogue.selectors import local_today
from onestop.centres.models import Centre, Ticket
from onestop.centres.stats import group_standards
from onestop.control.models import Violation
from onestop.feedback.models import Complaint, Rating
from onestop.quality.indicators import Tables

# table name in the lake -> (model, columns read)
COLUMNS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "applications": (Application, (
        "id", "country_id", "service_id", "agency_id", "region_id", "centre_id",
        "submitted_by_id", "channel", "submitted_at", "completed_at", "deadline_at",
        "clock_stopped_at", "outcome",
    )),
    "ratings": (Rating, (
        "id", "country_id", "application_id", "ticket_id", "agency_id", "centre_id",
        "scores", "created_at",
    )),
    "complaints": (Complaint, (
        "id", "country_id", "level", "ground", "decision", "application_id", "agency_id",
        "centre_id", "staff_id", "registered_at", "deadline_at", "extended_to", "decided_at",
    )),
    "violations": (Violation, (
        "id", "country_id", "kind", "found_at", "found_by", "application_id", "ticket_id",
        "agency_id", "centre_id", "person_id",
    )),
    "tickets": (Ticket, (
        "id", "centre_id", "group_id", "operator_id", "state", "finished_at", "wait_seconds",
    )),
    "centres": (Centre, ("id", "country_id", "region_id")),
}
LAKE_META = "lake.json"

# SQLite column types Django writes that Ibis does not know by name
_SQLITE_TYPES = {
    "integer unsigned": "int64",
    "bigint unsigned": "int64",
    "smallint unsigned": "int64",
    "text": "string",
}


class SourceError(Exception):
    """A source that cannot be read (a missing lake file, an unknown database)."""


def normalised(table: ir.Table, columns: tuple[str, ...]) -> ir.Table:
    """Only `columns`, times as naive UTC, ids as int64, JSON as text. A column already of
    the wanted type is left as it is: a CAST on a join key keeps SQLite from using its
    index (a scan of the events per application)."""
    out: dict[str, ir.Value] = {}
    for name in columns:
        column = table[name]
        kind = column.type()
        if kind.is_timestamp():
            out[name] = column.cast(dtypes.Timestamp(scale=6)) if kind.timezone else column
        elif kind.is_json() or kind.is_map() or kind.is_struct():
            out[name] = column.cast("string")
        elif kind.is_integer() and not kind.is_int64():
            out[name] = column.cast("int64")
        else:
            out[name] = column
    return table.select(**out)


Columns = dict[str, tuple[type[Model], tuple[str, ...]]]


def live_tables_of(columns: Columns) -> dict[str, ir.Table]:
    """The tables of `columns` ({name: (model, columns)}) on the live database, through
    Django's own connection, normalised."""
    backend = django_backend()
    return {name: normalised(backend.table(model._meta.db_table), wanted)
            for name, (model, wanted) in columns.items()}


def parquet_tables_of(folder: Path, columns: Columns,
                      error: type[Exception] = SourceError) -> dict[str, ir.Table]:
    """DuckDB over `<folder>/<name>.parquet` for each table of `columns`, normalised;
    `error` for a missing file."""
    backend = ibis.duckdb.connect()
    tables: dict[str, ir.Table] = {}
    for name, (_, wanted) in columns.items():
        path = Path(folder) / f"{name}.parquet"
        if not path.exists():
            raise error(f"{path} is missing")
        tables[name] = normalised(backend.read_parquet(path, table_name=name), wanted)
    return tables


class _BorrowedSQLite(SQLiteBackend):
    """Ibis on Django's own SQLite connection, as a guest: it neither commits nor rolls
    back (Ibis's own SQLite backend commits after every query, which would end the
    caller's transaction) and leaves the connection's LIKE case-insensitive, as Django
    expects, only adding Ibis's SQL functions (regular expressions)."""

    @contextlib.contextmanager
    def begin(self) -> Iterator[Any]:
        cursor = self.con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def _post_connect(self, type_map: dict[str, Any] | None = None) -> None:
        self._type_map = {k.lower(): ibis.dtype(v) for k, v in (type_map or {}).items()}
        register_all(self.con)


def django_backend() -> Any:
    """Ibis on Django's own connection (SQLite or PostgreSQL)."""
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "sqlite":
        return _BorrowedSQLite.from_connection(raw, type_map=_SQLITE_TYPES)
    if connection.vendor == "postgresql":
        return ibis.postgres.from_connection(raw)
    raise SourceError(f"assessments read SQLite or PostgreSQL, not {connection.vendor}")


def _max_waits(country: Country, on: dt.date) -> tuple[dict[int, int], int]:
    standards = group_standards(country, on)
    return (
        {group: minutes * 60 for group, minutes in standards.max_wait_minutes.items()},
        standards.default_max_wait_minutes * 60,
    )


def live_tables(country: Country, on: dt.date) -> Tables:
    """The live database's tables; queue standards in force on `on`."""
    tables = live_tables_of(COLUMNS)
    waits, default = _max_waits(country, on)
    return Tables(**tables, max_wait_seconds=waits, default_max_wait_seconds=default)


def lake_tables(folder: Path, country_id: int) -> Tables:
    """DuckDB over the Parquet files of `export_lake`; the queue standards of
    `country_id` as they were recorded at export."""
    folder = Path(folder)
    meta_path = folder / LAKE_META
    if not meta_path.exists():
        raise SourceError(f"{folder} is not a lake written by `onestop export lake`")
    meta = json.loads(meta_path.read_text())
    tables = parquet_tables_of(folder, COLUMNS)
    queue = meta.get("queue", {}).get(str(country_id), {})
    return Tables(
        **tables,
        max_wait_seconds={int(k): int(v) for k, v in queue.get("groups", {}).items()},
        default_max_wait_seconds=int(queue.get("default", 30 * 60)),
    )


def export_lake(folder: Path, *, on: dt.date | None = None) -> dict[str, int]:
    """Write every input table as `<name>.parquet` under `folder` (created if missing),
    with `lake.json` recording when and the queue standards of each country (in force
    on `on`, today by default). Returns the rows written per table."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    backend = django_backend()
    written: dict[str, int] = {}
    for name, (model, columns) in COLUMNS.items():
        expr = normalised(backend.table(model._meta.db_table), columns).order_by("id")
        arrow = expr.to_pyarrow()
        pq.write_table(arrow, folder / f"{name}.parquet")
        written[name] = arrow.num_rows
    queue: dict[str, Any] = {}
    for country in Country.objects.all():
        day = on or local_today(country)
        waits, default = _max_waits(country, day)
        queue[str(country.pk)] = {"groups": {str(k): v for k, v in waits.items()},
                                  "default": default, "on": day.isoformat(),
                                  "code": country.code}
    meta = {"exported_at": timezone.now().isoformat(), "rows": written, "queue": queue}
    (folder / LAKE_META).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return written
