"""Where the red flags read from: the live database or a lake of Parquet files.

`live_flag_tables()` gives Ibis tables over Django's own connection (SQLite or
PostgreSQL, through `onestop.quality.sources`, so a run reads the same transaction as the
command). `lake_flag_tables(folder)` gives DuckDB tables over the Parquet files
`export_flag_lake(folder)` writes beside those of `onestop export lake` (`flag_*.parquet`).
Both present the same columns (FLAG_COLUMNS), times as naive UTC, JSON as text.

No personal data goes to the lake: the applicant's national ID is replaced by a keyed
hash (the same person gives the same hash within one export, so "the same applicant"
can still be recognised), devices are already opaque hashes, and no names, phones or
comments are exported.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db.models import Model
from django.utils import timezone

from onestop.accounts.models import User
from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import ServiceStandard
from onestop.centres.models import Appointment, Centre, Ticket
from onestop.feedback.models import Complaint, Rating
from onestop.quality.sources import (
    django_backend,
    live_tables_of,
    normalised,
    parquet_tables_of,
)

FLAG_COLUMNS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "flag_applications": (Application, (
        "id", "country_id", "service_id", "standard_id", "agency_id", "region_id",
        "centre_id", "applicant_id", "applicant_national_id", "submitted_by_id", "channel",
        "submitted_at", "completed_at", "deadline_at", "outcome",
    )),
    "flag_events": (ApplicationEvent, (
        "id", "application_id", "at", "action", "actor_id", "actor_role", "clock", "data",
    )),
    "flag_tickets": (Ticket, (
        "id", "centre_id", "group_id", "day", "priority_rank", "place_at", "called_at",
        "operator_id", "state", "service_seconds", "finished_at",
    )),
    "flag_appointments": (Appointment, (
        "id", "centre_id", "group_id", "citizen_id", "state", "slot_start", "booked_at",
    )),
    "flag_ratings": (Rating, (
        "id", "country_id", "application_id", "ticket_id", "agency_id", "centre_id",
        "channel", "device", "lowest", "created_at",
    )),
    "flag_complaints": (Complaint, (
        "id", "country_id", "application_id", "agency_id", "centre_id", "staff_id",
        "decision", "registered_at", "decided_at",
    )),
    "flag_users": (User, ("id", "role", "agency_id", "centre_id")),
    "flag_centres": (Centre, ("id", "country_id", "region_id")),
    "flag_standards": (ServiceStandard, ("id", "service_id", "documents")),
}
FLAG_META = "flags.json"


class FlagSourceError(Exception):
    """A source that cannot be read (a missing lake file, an unknown database)."""


@dataclass(frozen=True)
class FlagTables:
    applications: ir.Table
    events: ir.Table
    tickets: ir.Table
    appointments: ir.Table
    ratings: ir.Table
    complaints: ir.Table
    users: ir.Table
    centres: ir.Table
    standards: ir.Table
    source: str  # "live:<vendor>" or "lake:<folder>"


def _tables(tables: dict[str, ir.Table], source: str) -> FlagTables:
    return FlagTables(**{name.removeprefix("flag_"): t for name, t in tables.items()},
                      source=source)


def live_flag_tables() -> FlagTables:
    """The live database's tables (Django's own connection)."""
    try:
        tables = live_tables_of(FLAG_COLUMNS)
    except Exception as exc:  # an unknown database vendor, no database
        raise FlagSourceError(str(exc)) from None
    return _tables(tables, "live")


def lake_flag_tables(folder: Path) -> FlagTables:
    """DuckDB over the `flag_*.parquet` files of `export_flag_lake(folder)`."""
    folder = Path(folder)
    if not (folder / FLAG_META).exists():
        raise FlagSourceError(
            f"{folder} holds no red-flag tables: run `onestop integrity lake {folder}` first")
    tables = parquet_tables_of(folder, FLAG_COLUMNS, FlagSourceError)
    return _tables(tables, f"lake:{folder.resolve()}")


def _hash_column(column: pa.ChunkedArray, key: bytes) -> pa.Array:
    values = column.to_pylist()
    return pa.array([hashlib.blake2b(v.encode(), key=key, digest_size=12).hexdigest()
                     if v else v for v in values], type=pa.string())


def export_flag_lake(folder: Path) -> dict[str, int]:
    """Write the red flags' tables as `flag_<name>.parquet` under `folder` with
    `flags.json` (when, rows). National IDs are replaced by a keyed hash whose key is
    thrown away. Returns the rows written per table."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    backend = django_backend()
    key = secrets.token_bytes(32)
    written: dict[str, int] = {}
    for name, (model, columns) in FLAG_COLUMNS.items():
        expr = normalised(backend.table(model._meta.db_table), columns).order_by("id")
        arrow = expr.to_pyarrow()
        if "applicant_national_id" in arrow.column_names:
            index = arrow.column_names.index("applicant_national_id")
            arrow = arrow.set_column(index, "applicant_national_id",
                                     _hash_column(arrow.column(index), key))
        if name == "flag_events":  # only the event data the flags read (document codes)
            keep = pc.equal(arrow.column("action"), "request_documents")
            data = pc.if_else(keep, arrow.column("data"), pa.scalar("{}"))
            arrow = arrow.set_column(arrow.column_names.index("data"), "data", data)
        pq.write_table(arrow, folder / f"{name}.parquet")
        written[name] = arrow.num_rows
    meta = {"exported_at": timezone.now().isoformat(), "rows": written}
    (folder / FLAG_META).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return written
