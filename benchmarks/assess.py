"""How fast the assessment's Ibis expressions run on DuckDB over Parquet, against one
hand-written DuckDB SQL query and against pandas, on a generated lake.

Generates a lake of N applications (default 1,000,000; try --applications 10000000) with
numpy, vectorised, written straight to Parquet in the layout of `onestop export lake`
(applications, ratings ~30 %, complaints ~1 %, violations ~2 %, tickets ~55 %, centres,
lake.json). Then times, on the same files, by agency for 2026-Q3 with the kz example
methodology:

  ibis, all      every measure query of onestop.quality.indicators (what `onestop assess
                 --lake` runs), through Ibis on DuckDB
  ibis, apps     the two application measures only (submitted and finished)
  hand SQL       the same two measures as one hand-written DuckDB SQL statement
  pandas         the same two measures in pandas over the same Parquet files

checks that the three give the same counts, and prints each time (best of --repeat) and
its ratio to the hand-written SQL. No assertions on time.
Usage: .venv/bin/python benchmarks/assess.py [--applications N] [--repeat R] [--keep DIR]
"""

# ruff: noqa: E402 (the path fix below must run before the other imports)
from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/queue.py would shadow the standard library's queue module (pyarrow imports it)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("ONESTOP_SECRET_KEY", "benchmark-only")
os.environ.setdefault("ONESTOP_DATA_DIR", tempfile.mkdtemp(prefix="onestop-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestop.settings")

import django

django.setup()

from onestop.quality import indicators, sources
from onestop.quality.methodology import parse

YEAR_START = np.datetime64("2026-01-01T00:00:00", "us")
US_PER_DAY = 86_400_000_000
SERVICES, AGENCIES, REGIONS, CENTRES, OPERATORS = 700, 60, 17, 350, 6000
CHANNELS = np.array(["centre", "portal", "api", "proactive"])
# Q3 2026 in Kazakhstan (UTC+5), as naive UTC
START = dt.datetime(2026, 6, 30, 19)
END = dt.datetime(2026, 9, 30, 19)
AS_OF = dt.datetime(2026, 12, 31)


def _write(folder: Path, name: str, columns: dict[str, Any]) -> None:
    pq.write_table(pa.table(columns), folder / f"{name}.parquet")


def _ts(rng_days: np.ndarray) -> np.ndarray:
    return YEAR_START + (rng_days * US_PER_DAY).astype("timedelta64[us]")


def generate(folder: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1, dtype=np.int64)
    service = rng.integers(1, SERVICES + 1, n)
    agency = service % AGENCIES + 1
    channel_index = rng.choice(4, n, p=[0.55, 0.35, 0.05, 0.05])
    channel = CHANNELS[channel_index]
    at_centre = channel_index == 0
    centre = np.where(at_centre, rng.integers(1, CENTRES + 1, n), 0)
    submitted_days = rng.uniform(0, 365, n)
    submitted = _ts(submitted_days)
    stopped_days = np.where(rng.random(n) < 0.1, rng.uniform(0.5, 6, n), 0.0)
    deadline = _ts(submitted_days + 7 + stopped_days)
    took = rng.exponential(4.0, n)
    done = rng.random(n) < 0.95
    completed = _ts(submitted_days + took)
    outcome = np.where(done, rng.choice(np.array(["issued", "refused", "withdrawn"]), n,
                                        p=[0.88, 0.1, 0.02]), "")
    still_stopped = done & (rng.random(n) < 0.01)
    stopped_at = _ts(submitted_days + took / 2)
    _write(folder, "applications", {
        "id": ids,
        "country_id": np.ones(n, dtype=np.int64),
        "service_id": service.astype(np.int64),
        "agency_id": agency.astype(np.int64),
        "region_id": pa.array(np.where(at_centre, (centre % REGIONS) + 1, 0), mask=~at_centre,
                              type=pa.int64()),
        "centre_id": pa.array(centre, mask=~at_centre, type=pa.int64()),
        "submitted_by_id": pa.array(rng.integers(1, OPERATORS + 1, n), mask=~at_centre,
                                    type=pa.int64()),
        "channel": channel,
        "submitted_at": submitted,
        "completed_at": pa.array(completed, mask=~done),
        "deadline_at": deadline,
        "clock_stopped_at": pa.array(stopped_at, mask=~still_stopped),
        "outcome": outcome,
    })
    rated = ids[done & (rng.random(n) < 0.3)]
    r = len(rated)
    scores = np.char.add(np.char.add('{"overall": ', rng.integers(1, 6, r).astype(str)), "}")
    _write(folder, "ratings", {
        "id": np.arange(1, r + 1, dtype=np.int64), "country_id": np.ones(r, dtype=np.int64),
        "application_id": rated, "ticket_id": pa.nulls(r, pa.int64()),
        "agency_id": agency[rated - 1].astype(np.int64),
        "centre_id": pa.array(centre[rated - 1], mask=centre[rated - 1] == 0, type=pa.int64()),
        "scores": scores, "created_at": completed[rated - 1],
    })
    complained = ids[rng.random(n) < 0.01]
    c = len(complained)
    registered_days = submitted_days[complained - 1] + 10
    decided = rng.random(c) < 0.9
    refused = outcome[complained - 1] == "refused"
    _write(folder, "complaints", {
        "id": np.arange(1, c + 1, dtype=np.int64), "country_id": np.ones(c, dtype=np.int64),
        "level": np.where(rng.random(c) < 0.9, "provider", "control"),
        "ground": np.where(refused, "unjustified_refusal", "missed_deadline"),
        "decision": np.where(decided, rng.choice(np.array(["upheld", "rejected"]), c), ""),
        "application_id": complained, "agency_id": agency[complained - 1].astype(np.int64),
        "centre_id": pa.nulls(c, pa.int64()), "staff_id": pa.nulls(c, pa.int64()),
        "registered_at": _ts(registered_days), "deadline_at": _ts(registered_days + 7),
        "extended_to": pa.nulls(c, pa.timestamp("us")),
        "decided_at": pa.array(_ts(registered_days + rng.uniform(1, 10, c)), mask=~decided),
    })
    violated = ids[rng.random(n) < 0.02]
    v = len(violated)
    _write(folder, "violations", {
        "id": np.arange(1, v + 1, dtype=np.int64), "country_id": np.ones(v, dtype=np.int64),
        "kind": np.full(v, "deadline_missed"),
        "found_at": _ts(submitted_days[violated - 1] + 8),
        "found_by": np.where(rng.random(v) < 0.3, "self", "control"),
        "application_id": violated, "ticket_id": pa.nulls(v, pa.int64()),
        "agency_id": agency[violated - 1].astype(np.int64),
        "centre_id": pa.nulls(v, pa.int64()), "person_id": pa.nulls(v, pa.int64()),
    })
    t = int(at_centre.sum())
    _write(folder, "tickets", {
        "id": np.arange(1, t + 1, dtype=np.int64),
        "centre_id": centre[at_centre].astype(np.int64),
        "group_id": rng.integers(1, 6, t).astype(np.int64),
        "operator_id": rng.integers(1, OPERATORS + 1, t).astype(np.int64),
        "state": np.where(rng.random(t) < 0.95, "served", "no_show"),
        "finished_at": submitted[at_centre], "wait_seconds": rng.integers(0, 3600, t),
    })
    centre_ids = np.arange(1, CENTRES + 1, dtype=np.int64)
    _write(folder, "centres", {"id": centre_ids, "country_id": np.ones(CENTRES, dtype=np.int64),
                               "region_id": centre_ids % REGIONS + 1})
    meta = {"queue": {"1": {"groups": {"1": 900, "2": 1800}, "default": 1800}},
            "rows": {"applications": n}}
    (folder / sources.LAKE_META).write_text(json.dumps(meta))


HAND_SQL = """
WITH a AS (SELECT * FROM read_parquet('{f}/applications.parquet') WHERE country_id = 1),
overturned AS (
  SELECT DISTINCT application_id FROM read_parquet('{f}/complaints.parquet')
  WHERE country_id = 1 AND ground = 'unjustified_refusal' AND decision IN ('upheld')
    AND decided_at IS NOT NULL AND decided_at <= TIMESTAMP '{as_of}'
    AND application_id IS NOT NULL),
sub AS (
  SELECT agency_id AS unit, count(*) AS submitted,
    sum(CASE WHEN channel IN ('portal', 'api', 'proactive') THEN 1 ELSE 0 END) AS digital,
    sum(CASE WHEN outcome IN ('issued', 'refused') AND completed_at < TIMESTAMP '{end}'
        THEN 1 ELSE 0 END) AS completed,
    {channels}
  FROM a WHERE submitted_at >= TIMESTAMP '{start}' AND submitted_at < TIMESTAMP '{end}'
  GROUP BY 1),
fin AS (
  SELECT agency_id AS unit, count(*) AS finished,
    sum(CASE WHEN coalesce(clock_stopped_at, completed_at) > deadline_at THEN 1 ELSE 0 END)
      AS late,
    sum(CASE WHEN outcome = 'refused' THEN 1 ELSE 0 END) AS refusals,
    sum(CASE WHEN outcome = 'refused' AND o.application_id IS NOT NULL THEN 1 ELSE 0 END)
      AS overturned
  FROM a LEFT JOIN overturned o ON a.id = o.application_id
  WHERE outcome IN ('issued', 'refused') AND completed_at >= TIMESTAMP '{start}'
    AND completed_at < TIMESTAMP '{end}'
  GROUP BY 1)
SELECT * FROM sub FULL JOIN fin USING (unit) ORDER BY unit
"""


def hand_sql(folder: Path, costed: list[str]) -> dict[str, dict[str, float]]:
    channels = ", ".join(
        f"sum(CASE WHEN channel = '{c}' THEN 1 ELSE 0 END) AS channel_{c}" for c in costed)
    sql = HAND_SQL.format(f=folder, start=START, end=END, as_of=AS_OF, channels=channels)
    table = duckdb.connect().sql(sql).to_arrow_table()
    return {str(row.pop("unit")): {k: float(v or 0) for k, v in row.items()}
            for row in table.to_pylist()}


def with_pandas(folder: Path, costed: list[str]) -> dict[str, dict[str, float]]:
    a = pd.read_parquet(folder / "applications.parquet", columns=[
        "id", "country_id", "agency_id", "channel", "submitted_at", "completed_at",
        "deadline_at", "clock_stopped_at", "outcome"])
    a = a[a.country_id == 1]
    k = pd.read_parquet(folder / "complaints.parquet")
    k = k[(k.country_id == 1) & (k.ground == "unjustified_refusal") & k.decision.isin(["upheld"])
          & k.decided_at.notna() & (k.decided_at <= AS_OF) & k.application_id.notna()]
    overturned = set(k.application_id.astype("int64"))
    finished_ok = a.outcome.isin(["issued", "refused"])
    sub = a[(a.submitted_at >= START) & (a.submitted_at < END)]
    sub = sub.assign(
        digital=sub.channel.isin(["portal", "api", "proactive"]).astype("int64"),
        completed=(sub.outcome.isin(["issued", "refused"])
                   & (sub.completed_at < END)).astype("int64"),
        **{f"channel_{c}": (sub.channel == c).astype("int64") for c in costed},
    )
    s = sub.groupby("agency_id").agg(
        submitted=("id", "size"), digital=("digital", "sum"), completed=("completed", "sum"),
        **{f"channel_{c}": (f"channel_{c}", "sum") for c in costed})
    f = a[finished_ok & (a.completed_at >= START) & (a.completed_at < END)]
    refused = f.outcome == "refused"
    f = f.assign(
        late=(f.clock_stopped_at.fillna(f.completed_at) > f.deadline_at).astype("int64"),
        refusals=refused.astype("int64"),
        overturned=(refused & f.id.isin(overturned)).astype("int64"),
    )
    g = f.groupby("agency_id").agg(finished=("id", "size"), late=("late", "sum"),
                                   refusals=("refusals", "sum"),
                                   overturned=("overturned", "sum"))
    joined = s.join(g, how="outer").fillna(0)
    return {str(int(unit)): {k: float(v) for k, v in row.items()}
            for unit, row in joined.iterrows()}


def ibis_counts(folder: Path, queries: tuple[Callable[..., Any], ...], m: Any
                ) -> dict[str, dict[str, float]]:
    tables = sources.lake_tables(folder, 1)
    window = indicators.Window(country_id=1, start=START, end=END, as_of=AS_OF)
    merged: dict[str, dict[str, float]] = {}
    for query in queries:
        for row in query(tables, window, "agency", m).to_pyarrow().to_pylist():
            unit = str(int(row.pop("unit")))
            merged.setdefault(unit, {}).update({k: float(v or 0) for k, v in row.items()})
    return merged


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", help="write the lake here and keep it")
    options = parser.parse_args()
    folder = Path(options.keep) if options.keep else Path(tempfile.mkdtemp(prefix="lake-"))
    folder.mkdir(parents=True, exist_ok=True)
    m = parse(yaml.safe_load((ROOT / "src/onestop/packs/kz/methodology.yaml").read_text()))
    costed = sorted(m.channel_costs)
    try:
        began = time.perf_counter()
        generate(folder, options.applications)
        made = time.perf_counter() - began
        size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
        print(f"{platform.processor() or platform.machine()}, Python "
              f"{platform.python_version()}, duckdb {duckdb.__version__}")
        print(f"lake: {options.applications:,} applications, {size / 1e6:.0f} MB of "
              f"Parquet, generated in {made:.1f} s")
        apps_only = (indicators.submitted, indicators.finished)
        t_all, _ = best(options.repeat,
                        lambda: ibis_counts(folder, indicators.MEASURE_QUERIES, m))
        t_ibis, by_ibis = best(options.repeat, lambda: ibis_counts(folder, apps_only, m))
        t_sql, by_sql = best(options.repeat, lambda: hand_sql(folder, costed))
        t_pd, by_pd = best(options.repeat, lambda: with_pandas(folder, costed))
        names = sorted(next(iter(by_sql.values())))
        same_sql = all({k: by_ibis.get(u, {}).get(k, 0.0) for k in names} == by_sql[u]
                       for u in by_sql)
        same_pd = all({k: by_pd.get(u, {}).get(k, 0.0) for k in names} == by_sql[u]
                      for u in by_sql)
        print(f"same counts: ibis = hand SQL: {same_sql}; pandas = hand SQL: {same_pd}")
        rate = options.applications / t_sql
        print(f"{'':12}{'seconds':>9}  ratio to hand SQL")
        print(f"{'hand SQL':12}{t_sql:9.3f}  1.00  ({rate:,.0f} applications/s)")
        print(f"{'ibis, apps':12}{t_ibis:9.3f}  {t_ibis / t_sql:.2f}")
        print(f"{'pandas':12}{t_pd:9.3f}  {t_pd / t_sql:.2f}")
        print(f"{'ibis, all':12}{t_all:9.3f}  {t_all / t_sql:.2f}  (every measure)")
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
