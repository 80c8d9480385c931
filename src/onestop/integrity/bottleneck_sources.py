"""Where the bottleneck analysis reads the event log from: the live database or a lake.

`live_flow_tables()` gives Ibis tables over Django's own connection (SQLite or
PostgreSQL, through `onestop.quality.sources`, so a run reads the same transaction as
the request or command). `lake_flow_tables(folder)` gives DuckDB tables over the Parquet
files `export_flow_lake(folder)` writes beside those of `onestop export lake`. Both
present the same columns (FLOW_COLUMNS), times as naive UTC, JSON as text.

The register (services, agencies, standards, workflows) is read from the live database
in both cases: it is configuration, small, and the same on the machine that exported.
No personal data is exported: events carry ids, times, states, the role that acted and,
only for the events that request documents or ask another agency, the event's `data`
(document codes, the agency asked); never comments, names or accounts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow.parquet as pq
from django.db.models import Model
from django.utils import timezone

from onestop.applications.models import Application, ApplicationEvent
from onestop.integrity.bottlenecks import AGENCY_KEY, DOCUMENT_KEY
from onestop.quality.sources import (
    django_backend,
    live_tables_of,
    normalised,
    parquet_tables_of,
)

FLOW_COLUMNS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "flow_applications": (Application, (
        "id", "country_id", "service_id", "standard_id", "agency_id", "centre_id",
        "channel", "submitted_at", "completed_at", "outcome",
    )),
    "flow_events": (ApplicationEvent, (
        "id", "application_id", "at", "action", "from_state", "to_state", "actor_role",
        "clock", "data",
    )),
}
FLOW_META = "flow.json"


class FlowSourceError(Exception):
    """A source that cannot be read (a missing lake file)."""


@dataclass(frozen=True)
class FlowTables:
    applications: ir.Table
    events: ir.Table
    source: str  # "live" or "lake"


def live_flow_tables() -> FlowTables:
    tables = live_tables_of(FLOW_COLUMNS)
    return FlowTables(tables["flow_applications"], tables["flow_events"], "live")


def lake_flow_tables(folder: Path) -> FlowTables:
    folder = Path(folder)
    if not (folder / FLOW_META).exists():
        raise FlowSourceError(
            f"{folder} has no event log: write it with `onestop bottlenecks --write-lake "
            f"{folder}`")
    tables = parquet_tables_of(folder, FLOW_COLUMNS, FlowSourceError)
    return FlowTables(tables["flow_applications"], tables["flow_events"], "lake")


def export_flow_lake(folder: Path) -> dict[str, int]:
    """Write the applications' flow columns and the event log as Parquet under `folder`
    (created if missing), with flow.json; returns the rows written per table."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    backend = django_backend()
    written: dict[str, int] = {}
    for name, (model, columns) in FLOW_COLUMNS.items():
        expr = normalised(backend.table(model._meta.db_table), columns).order_by("id")
        if "data" in columns:
            # only what the analysis reads: requested document codes, the agency asked
            keep = expr.data.contains(DOCUMENT_KEY) | expr.data.contains(f'"{AGENCY_KEY}"')
            expr = expr.mutate(data=ibis.ifelse(keep, expr.data, ibis.null("string")))
        arrow = expr.to_pyarrow()
        pq.write_table(arrow, folder / f"{name}.parquet")
        written[name] = arrow.num_rows
    meta = {"exported_at": timezone.now().isoformat(), "rows": written}
    (folder / FLOW_META).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return written
