"""How fast the full quality assessment runs through Ibis on DuckDB over Parquet, against
one hand-written DuckDB SQL query and against pandas, on a generated lake.

Generates a lake of N applications (default 1,000,000; try --applications 10000000) with
numpy, vectorised, written straight to Parquet in the layout of `onestop export lake`
(applications, ratings ~30 %, complaints ~1 %, violations ~2 %, tickets ~55 %, centres,
lake.json). Then assesses, on the same files, by agency for 2026-Q3 with the kz example
methodology, three ways that compute the same counts behind every indicator (submitted,
digital, completed and per channel; finished, late, refusals, overturned; ratings per
criterion; complaints; violations; tickets served have no agency) and score them with the
same pure `onestop.quality.methodology.assess`:

  ibis      `onestop.quality.indicators.unit_counts` over `sources.lake_tables`: what
            `onestop assess --lake` runs
  hand SQL  one hand-written DuckDB SQL statement (the limit)
  pandas    the same in pandas over the same Parquet files

Every contender uses the same algorithm (one read of the applications for both of their
measures; each distinct text of rating scores parsed once per unit; the applications
read for a complaint only when it names no agency). Both DuckDB contenders run with the
same number of threads (--threads, default: the machine's cores). The contenders are
timed interleaved (ibis, hand SQL, pandas, then again), best of --repeat, with the load
average beside; the script checks the three give the same counts and the same scores.
No assertions on time.
Usage: .venv/bin/python benchmarks/assess.py [--applications N] [--repeat R] [--threads T]
       [--keep DIR]
"""

from __future__ import annotations

# first: lake_setup fixes sys.path and sets Django up (see there)
from lake_setup import END, ROOT, START, timestamps  # isort: skip

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from onestop.quality import indicators, sources
from onestop.quality.methodology import Methodology, UnitScore, assess, parse

SERVICES, AGENCIES, REGIONS, CENTRES, OPERATORS = 700, 60, 17, 350, 6000
CHANNELS = np.array(["centre", "portal", "api", "proactive"])
AS_OF = dt.datetime(2026, 12, 31)


def _write(folder: Path, name: str, columns: dict[str, Any]) -> None:
    pq.write_table(pa.table(columns), folder / f"{name}.parquet")


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
    submitted = timestamps(submitted_days)
    stopped_days = np.where(rng.random(n) < 0.1, rng.uniform(0.5, 6, n), 0.0)
    deadline = timestamps(submitted_days + 7 + stopped_days)
    took = rng.exponential(4.0, n)
    done = rng.random(n) < 0.95
    completed = timestamps(submitted_days + took)
    outcome = np.where(done, rng.choice(np.array(["issued", "refused", "withdrawn"]), n,
                                        p=[0.88, 0.1, 0.02]), "")
    still_stopped = done & (rng.random(n) < 0.01)
    stopped_at = timestamps(submitted_days + took / 2)
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
        "registered_at": timestamps(registered_days),
        "deadline_at": timestamps(registered_days + 7),
        "extended_to": pa.nulls(c, pa.timestamp("us")),
        "decided_at": pa.array(timestamps(registered_days + rng.uniform(1, 10, c)), mask=~decided),
    })
    violated = ids[rng.random(n) < 0.02]
    v = len(violated)
    _write(folder, "violations", {
        "id": np.arange(1, v + 1, dtype=np.int64), "country_id": np.ones(v, dtype=np.int64),
        "kind": np.full(v, "deadline_missed"),
        "found_at": timestamps(submitted_days[violated - 1] + 8),
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


Counts = dict[str, dict[str, float]]

# One statement for the agency scope of the kz example methodology; {placeholders} are
# filled from the methodology and the window. A measure's columns are NULL for a unit
# absent from that measure (as in the Ibis queries), and tickets are left out: they have
# no agency.
HAND_SQL = """
WITH a AS (
  SELECT id, agency_id AS unit, channel, outcome, completed_at, deadline_at,
    clock_stopped_at,
    submitted_at >= {start} AND submitted_at < {end} AS s,
    outcome IN ({finished_outcomes}) AND completed_at >= {start} AND completed_at < {end}
      AS f
  FROM read_parquet('{f}/applications.parquet')
  WHERE country_id = {country} AND agency_id IS NOT NULL
    AND ((submitted_at >= {start} AND submitted_at < {end})
      OR (outcome IN ({finished_outcomes}) AND completed_at >= {start}
          AND completed_at < {end}))),
overturned AS (
  SELECT DISTINCT application_id FROM read_parquet('{f}/complaints.parquet')
  WHERE country_id = {country} AND ground = 'unjustified_refusal'
    AND decision IN ({upheld}) AND decided_at IS NOT NULL AND decided_at <= {as_of}
    AND application_id IS NOT NULL),
apps AS (
  SELECT unit,
    count_if(s) AS submitted,
    count_if(s AND channel IN ({digital})) AS digital,
    count_if(s AND outcome IN ({finished_outcomes}) AND completed_at < {end}) AS completed,
    {channels},
    count_if(f) AS finished,
    count_if(f AND coalesce(clock_stopped_at, completed_at) > deadline_at) AS late,
    count_if(f AND outcome = 'refused') AS refusals,
    count_if(f AND outcome = 'refused' AND o.application_id IS NOT NULL) AS overturned
  FROM a LEFT JOIN overturned o ON a.id = o.application_id
  GROUP BY unit),
texts AS (
  SELECT agency_id AS unit, scores, count(*) AS n
  FROM read_parquet('{f}/ratings.parquet')
  WHERE country_id = {country} AND created_at >= {start} AND created_at < {end}
    AND agency_id IS NOT NULL
  GROUP BY ALL),
scored AS (SELECT unit, n, {scores} FROM texts),
rat AS (SELECT unit, sum(n) AS ratings, {criteria} FROM scored GROUP BY unit),
k AS (
  SELECT * FROM read_parquet('{f}/complaints.parquet')
  WHERE country_id = {country} AND level = 'provider' AND registered_at >= {start}
    AND registered_at < {end}),
kd AS (
  SELECT coalesce(k.agency_id, ka.agency_id) AS unit,
    decided_at IS NOT NULL AND decided_at <= {as_of} AND decision <> '' AS decided,
    decided_at <= coalesce(extended_to, k.deadline_at) AS in_time,
    decision IN ({upheld}) AS upheld
  FROM k LEFT JOIN (
    SELECT id, agency_id FROM read_parquet('{f}/applications.parquet')
    WHERE id IN (SELECT application_id FROM k WHERE agency_id IS NULL)) ka
  ON k.application_id = ka.id),
com AS (
  SELECT unit, count(*) AS complaints, count_if(decided) AS decided,
    count_if(decided AND in_time) AS answered_in_time,
    count_if(decided AND upheld) AS upheld
  FROM kd WHERE unit IS NOT NULL GROUP BY unit),
vio AS (
  SELECT agency_id AS unit, count(*) AS violations,
    count_if(found_by = 'self') AS violations_self,
    count_if(kind IN ({kinds})) AS penalised_violations
  FROM read_parquet('{f}/violations.parquet')
  WHERE country_id = {country} AND found_at >= {start} AND found_at < {end}
    AND agency_id IS NOT NULL
  GROUP BY unit)
SELECT * REPLACE ({absent})
FROM apps FULL JOIN rat USING (unit) FULL JOIN com USING (unit) FULL JOIN vio USING (unit)
"""


def _texts(values: Any) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _rows_to_counts(rows: list[dict[str, Any]]) -> Counts:
    """Rows with a `unit` column to counts per unit, NULLs (absent measures) left out."""
    return {str(int(row.pop("unit"))): {k: float(v) for k, v in row.items() if v is not None}
            for row in rows}


def hand_sql(folder: Path, m: Methodology, threads: int) -> Counts:
    pattern = r'"{}"\s*:\s*([0-9]+)'
    time_ = "TIMESTAMP '{}'".format
    sql = HAND_SQL.format(
        f=folder, country=1, start=time_(START), end=time_(END), as_of=time_(AS_OF),
        finished_outcomes=_texts(m.finished_outcomes), upheld=_texts(m.upheld_decisions),
        digital=_texts(m.digital_channels),
        kinds=_texts(m.penalty_kinds),
        channels=",\n    ".join(f"count_if(s AND channel = '{c}') AS channel_{c}"
                                for c in sorted(m.channel_costs)),
        # NULL, not 0, for a unit with no application submitted (or finished)
        absent=", ".join(
            [f"CASE WHEN submitted > 0 THEN {c} END AS {c}"
             for c in ["submitted", "digital", "completed",
                       *(f"channel_{c}" for c in sorted(m.channel_costs))]]
            + [f"CASE WHEN finished > 0 THEN {c} END AS {c}"
               for c in ["late", "refusals", "overturned", "finished"]]),
        scores=", ".join(
            f"CAST(nullif(regexp_extract(scores, {_texts([pattern.format(c)])}, 1), '') "
            f"AS BIGINT) AS score_{c}" for c in m.criteria),
        criteria=", ".join(
            f"coalesce(sum(n) FILTER (WHERE score_{c} IS NOT NULL), 0) AS rated_{c}, "
            f"coalesce(sum(n) FILTER (WHERE score_{c} >= {m.satisfied_at_or_above}), 0) "
            f"AS satisfied_{c}, coalesce(sum(score_{c} * n), 0) AS score_sum_{c}"
            for c in m.criteria),
    )
    con = duckdb.connect(config={"threads": threads})
    try:
        return _rows_to_counts(con.sql(sql).to_arrow_table().to_pylist())
    finally:
        con.close()


def _frame_to_counts(frame: pd.DataFrame) -> Counts:
    return {str(int(unit)): {k: float(v) for k, v in row.items() if not pd.isna(v)}
            for unit, row in frame.iterrows()}


def with_pandas(folder: Path, m: Methodology) -> Counts:
    outcomes, upheld = list(m.finished_outcomes), list(m.upheld_decisions)
    every = pd.read_parquet(folder / "applications.parquet", columns=[
        "id", "country_id", "agency_id", "channel", "submitted_at", "completed_at",
        "deadline_at", "clock_stopped_at", "outcome"])
    a = every[(every.country_id == 1) & every.agency_id.notna()]
    s = (a.submitted_at >= START) & (a.submitted_at < END)
    f = a.outcome.isin(outcomes) & (a.completed_at >= START) & (a.completed_at < END)
    a, s, f = a[s | f], s[s | f], f[s | f]
    k = pd.read_parquet(folder / "complaints.parquet")
    k = k[k.country_id == 1]
    overturned = k[(k.ground == "unjustified_refusal") & k.decision.isin(upheld)
                   & k.decided_at.notna() & (k.decided_at <= AS_OF)
                   & k.application_id.notna()].application_id.astype("int64")
    refused = a.outcome == "refused"
    flags = pd.DataFrame({
        "unit": a.agency_id,
        "submitted": s,
        "digital": s & a.channel.isin(list(m.digital_channels)),
        "completed": s & a.outcome.isin(outcomes) & (a.completed_at < END),
        **{f"channel_{c}": s & (a.channel == c) for c in sorted(m.channel_costs)},
        "finished": f,
        "late": f & (a.clock_stopped_at.fillna(a.completed_at) > a.deadline_at),
        "refusals": f & refused,
        "overturned": f & refused & a.id.isin(overturned),
    })
    apps = flags.groupby("unit").sum()
    sub_cols = [c for c in apps.columns if c not in ("finished", "late", "refusals",
                                                      "overturned")]
    apps = apps.astype("float64")
    apps.loc[apps.submitted == 0, sub_cols] = np.nan
    apps.loc[apps.finished == 0, ["finished", "late", "refusals", "overturned"]] = np.nan

    r = pd.read_parquet(folder / "ratings.parquet",
                        columns=["country_id", "agency_id", "scores", "created_at"])
    r = r[(r.country_id == 1) & (r.created_at >= START) & (r.created_at < END)
          & r.agency_id.notna()]
    texts = r.groupby(["agency_id", "scores"]).size().rename("n").reset_index()
    rat = {"ratings": texts.n}
    for c in m.criteria:
        score = pd.to_numeric(texts.scores.str.extract(rf'"{c}"\s*:\s*([0-9]+)')[0])
        rat[f"rated_{c}"] = texts.n.where(score.notna(), 0)
        rat[f"satisfied_{c}"] = texts.n.where(score >= m.satisfied_at_or_above, 0)
        rat[f"score_sum_{c}"] = (score * texts.n).fillna(0)
    ratings = pd.DataFrame({"unit": texts.agency_id, **rat}).groupby("unit").sum()

    k = k[(k.level == "provider") & (k.registered_at >= START) & (k.registered_at < END)]
    unnamed = k.agency_id.isna()
    unit = k.agency_id.copy()
    if unnamed.any():
        agency_of = every.set_index("id").agency_id
        unit[unnamed] = k.application_id[unnamed].map(agency_of)
    decided = k.decided_at.notna() & (k.decided_at <= AS_OF) & (k.decision != "")
    com = pd.DataFrame({
        "unit": unit, "complaints": True, "decided": decided,
        "answered_in_time": decided & (k.decided_at <= k.extended_to.fillna(k.deadline_at)),
        "upheld": decided & k.decision.isin(upheld),
    }).dropna(subset=["unit"]).groupby("unit").sum()

    v = pd.read_parquet(folder / "violations.parquet",
                        columns=["country_id", "agency_id", "found_at", "found_by", "kind"])
    v = v[(v.country_id == 1) & (v.found_at >= START) & (v.found_at < END)
          & v.agency_id.notna()]
    vio = pd.DataFrame({
        "unit": v.agency_id, "violations": True, "violations_self": v.found_by == "self",
        "penalised_violations": (v.kind.isin(list(m.penalty_kinds)) if m.penalty_kinds
                                 else True),
    }).groupby("unit").sum()
    return _frame_to_counts(pd.concat([apps, ratings, com, vio], axis=1))


def with_ibis(folder: Path, m: Methodology, threads: int) -> Counts:
    """What `onestop assess --lake` computes (onestop.quality.services.compute)."""
    tables = sources.lake_tables(folder, 1)
    ibis.get_backend(tables.applications).raw_sql(f"SET threads = {threads}")
    window = indicators.Window(country_id=1, start=START, end=END, as_of=AS_OF)
    return indicators.unit_counts(tables, window, "agency", m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", help="write the lake here and keep it (reused if there)")
    options = parser.parse_args()
    folder = Path(options.keep) if options.keep else Path(tempfile.mkdtemp(prefix="lake-"))
    folder.mkdir(parents=True, exist_ok=True)
    m = parse(yaml.safe_load((ROOT / "src/onestop/packs/kz/methodology.yaml").read_text()))
    threads = options.threads
    contenders: dict[str, Callable[[], Counts]] = {
        "ibis": lambda: with_ibis(folder, m, threads),
        "hand SQL": lambda: hand_sql(folder, m, threads),
        "pandas": lambda: with_pandas(folder, m),
    }
    try:
        meta = folder / sources.LAKE_META
        reuse = (meta.exists() and json.loads(meta.read_text()).get("rows", {})
                 .get("applications") == options.applications)
        began = time.perf_counter()
        if not reuse:
            generate(folder, options.applications)
        made = time.perf_counter() - began
        size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, duckdb {duckdb.__version__}, ibis "
              f"{ibis.__version__}, pandas {pd.__version__}; DuckDB threads: {threads}")
        print(f"lake: {options.applications:,} applications, {size / 1e6:.0f} MB of "
              f"Parquet, " + ("reused" if reuse else f"generated in {made:.1f} s"))
        times: dict[str, list[float]] = {name: [] for name in contenders}
        results: dict[str, tuple[Counts, list[UnitScore]]] = {}
        loads = [os.getloadavg()[0]]
        for _ in range(options.repeat):
            for name, work in contenders.items():
                started = time.perf_counter()
                counts = work()
                scores = assess(m, counts)
                times[name].append(time.perf_counter() - started)
                results[name] = (counts, scores)
            loads.append(os.getloadavg()[0])
        reference, ref_scores = results["hand SQL"]
        for name in ("ibis", "pandas"):
            counts, scores = results[name]
            print(f"{name} = hand SQL: counts {counts == reference}, "
                  f"scores {scores == ref_scores}")
        names = {k for unit in reference.values() for k in unit}
        print(f"({len(reference)} units, {len(names)} counts each)")
        t_sql = min(times["hand SQL"])
        print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
        print(f"{'':10}{'best s':>8}  {'runs':22}  ratio to hand SQL")
        for name in contenders:
            best = min(times[name])
            runs = " ".join(f"{t:.2f}" for t in times[name])
            print(f"{name:10}{best:8.3f}  {runs:22}  {best / t_sql:.2f}")
        t_ibis, t_pd = min(times["ibis"]), min(times["pandas"])
        print(f"ibis is {t_pd / t_ibis:.1f}x as fast as pandas; "
              f"{options.applications / t_ibis:,.0f} applications/s")
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
