"""How fast all twelve red flags run on DuckDB over Parquet, against hand-written DuckDB
SQL for the same counts, on a generated lake.

Generates, with numpy (vectorised, as benchmarks/assess.py does), a lake of N
applications (default 1,000,000; the issue's target is --applications 10000000) in the
layout of `onestop integrity lake` (flag_*.parquet: applications, decision and request
events, tickets ~55 %, appointments, ratings ~30 %, complaints ~1 %, users, centres,
standards). Then times, on the same files, for 2026-Q3 (Kazakhstan, UTC+5):

  ibis, all      onestop.integrity.redflags.compute: every flag's cases counted per
                 subject and service in DuckDB through Ibis, scored, and the evidence
                 of the raised flags fetched (what `onestop integrity flags --lake` runs)
  ibis, counts   the counting step only (the case tables grouped per subject kind)
  hand SQL       the same counts as hand-written DuckDB SQL, one statement per flag

checks that Ibis and the hand-written SQL give the same totals per flag and kind, and
prints each time (best of --repeat) and the ratio to the hand-written SQL. No
assertions on time.
Usage: .venv/bin/python benchmarks/integrity.py [--applications N] [--repeat R] [--keep DIR]
"""

from __future__ import annotations

# first: lake_setup fixes sys.path and sets Django up (see there)
from lake_setup import END, START, timestamps  # isort: skip

import argparse
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
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from onestop.integrity import redflags
from onestop.integrity.flags_config import parse
from onestop.integrity.redflags_sources import FLAG_META, lake_flag_tables

SERVICES, AGENCIES, REGIONS, CENTRES, GROUPS = 700, 60, 17, 350, 5
OPERATORS, OFFICERS_PER_SERVICE = 6000, 4
OFFICER_BASE, CITIZEN_BASE = 10_000, 100_000
WINDOW = redflags.Window(country_id=1, start=START, end=END, utc_offset_hours=5)


def _write(folder: Path, name: str, columns: dict[str, Any]) -> None:
    pq.write_table(pa.table(columns), folder / f"flag_{name}.parquet")


def _strings(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def generate(folder: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1, dtype=np.int64)
    service = rng.integers(1, SERVICES + 1, n).astype(np.int64)
    agency = service % AGENCIES + 1
    at_centre = rng.random(n) < 0.55
    centre = np.where(at_centre, rng.integers(1, CENTRES + 1, n), 0).astype(np.int64)
    citizens = max(n // 2, 1000)
    applicant = CITIZEN_BASE + rng.integers(0, citizens, n).astype(np.int64)
    operator_of_app = rng.integers(1, OPERATORS + 1, n).astype(np.int64)
    submitted_by = np.where(at_centre, operator_of_app, applicant)
    # working hours, local (UTC+5): 09-18 local = 04-13 UTC
    submitted_days = rng.integers(0, 365, n) + rng.uniform(4 / 24, 13 / 24, n)
    took = rng.integers(1, 8, n) + rng.uniform(-0.1, 0.1, n)
    deadline_days = submitted_days + 10
    done = rng.random(n) < 0.95
    outcome = np.where(done, rng.choice(np.array(["issued", "refused"]), n, p=[0.9, 0.1]), "")
    completed = timestamps(submitted_days + took)
    _write(folder, "applications", {
        "id": ids, "country_id": np.ones(n, dtype=np.int64), "service_id": service,
        "standard_id": service, "agency_id": agency,
        "region_id": pa.array(centre % REGIONS + 1, mask=~at_centre, type=pa.int64()),
        "centre_id": pa.array(centre, mask=~at_centre, type=pa.int64()),
        "applicant_id": applicant, "applicant_national_id": _strings(applicant * 7919 % 10**12),
        "submitted_by_id": submitted_by,
        "channel": np.where(at_centre, "centre", "portal"),
        "submitted_at": timestamps(submitted_days), "completed_at": pa.array(completed, mask=~done),
        "deadline_at": timestamps(deadline_days), "outcome": outcome,
    })
    # events: a decision per completed application, "documents requested" for 12 %
    officer = OFFICER_BASE + service * OFFICERS_PER_SERVICE + rng.integers(
        0, OFFICERS_PER_SERVICE, n)
    decided = ids[done]
    d = len(decided)
    asked = ids[rng.random(n) < 0.12]
    q = len(asked)
    data = np.where(rng.random(q) < 0.02, '{"requested_documents": ["odd"]}',
                    '{"requested_documents": ["application"]}')
    _write(folder, "events", {
        "id": np.arange(1, d + q + 1, dtype=np.int64),
        "application_id": np.concatenate([decided, asked]),
        "at": np.concatenate([completed[done], timestamps(submitted_days[asked - 1] + 0.5)]),
        "action": np.concatenate([np.where(outcome[done] == "refused", "refuse", "approve"),
                                  np.full(q, "request_documents")]),
        "actor_id": np.concatenate([officer[done], officer[asked - 1]]),
        "actor_role": np.full(d + q, "officer"),
        "clock": np.concatenate([np.full(d, ""), np.full(q, "stop")]),
        "data": np.concatenate([np.full(d, "{}"), data]),
    })
    # tickets: one per counter application, served in order by the centre's operators
    t = int(at_centre.sum())
    place_days = submitted_days[at_centre]
    wait = rng.uniform(0, 0.02, t)
    service_s = rng.integers(120, 1800, t)
    day = timestamps(place_days).astype("datetime64[D]")
    _write(folder, "tickets", {
        "id": np.arange(1, t + 1, dtype=np.int64), "centre_id": centre[at_centre],
        "group_id": rng.integers(1, GROUPS + 1, t).astype(np.int64), "day": day,
        "priority_rank": np.zeros(t, dtype=np.int64), "place_at": timestamps(place_days),
        "called_at": timestamps(place_days + wait), "operator_id": operator_of_app[at_centre],
        "state": np.where(rng.random(t) < 0.95, "served", "no_show"),
        "service_seconds": service_s,
        "finished_at": timestamps(place_days + wait + service_s / 86400),
    })
    a = max(t // 20, 1)
    slot = rng.integers(0, 365, a) + 0.3
    _write(folder, "appointments", {
        "id": np.arange(1, a + 1, dtype=np.int64),
        "centre_id": rng.integers(1, CENTRES + 1, a).astype(np.int64),
        "group_id": rng.integers(1, GROUPS + 1, a).astype(np.int64),
        "citizen_id": CITIZEN_BASE + rng.integers(0, citizens, a).astype(np.int64),
        "state": rng.choice(np.array(["arrived", "no_show", "cancelled"]), a, p=[.85, .1, .05]),
        "slot_start": timestamps(slot), "booked_at": timestamps(slot - 3),
    })
    rated = ids[done & (rng.random(n) < 0.3)]
    r = len(rated)
    _write(folder, "ratings", {
        "id": np.arange(1, r + 1, dtype=np.int64), "country_id": np.ones(r, dtype=np.int64),
        "application_id": rated, "ticket_id": pa.nulls(r, pa.int64()),
        "agency_id": agency[rated - 1],
        "centre_id": pa.array(centre[rated - 1], mask=centre[rated - 1] == 0, type=pa.int64()),
        "channel": np.full(r, "portal"), "device": _strings(rng.integers(0, 2**62, r)),
        "lowest": rng.integers(1, 6, r), "created_at": completed[rated - 1],
    })
    complained = ids[rng.random(n) < 0.01]
    c = len(complained)
    registered = submitted_days[complained - 1] + 10
    _write(folder, "complaints", {
        "id": np.arange(1, c + 1, dtype=np.int64), "country_id": np.ones(c, dtype=np.int64),
        "application_id": complained, "agency_id": agency[complained - 1],
        "centre_id": pa.array(centre[complained - 1], mask=centre[complained - 1] == 0,
                              type=pa.int64()),
        "staff_id": pa.nulls(c, pa.int64()),
        "decision": rng.choice(np.array(["upheld", "rejected", ""]), c),
        "registered_at": timestamps(registered), "decided_at": timestamps(registered + 5),
    })
    officers = OFFICER_BASE + np.arange(SERVICES * OFFICERS_PER_SERVICE + OFFICERS_PER_SERVICE)
    users = np.concatenate([np.arange(1, OPERATORS + 1), officers,
                            CITIZEN_BASE + np.arange(citizens)]).astype(np.int64)
    roles = np.concatenate([np.full(OPERATORS, "operator"), np.full(len(officers), "officer"),
                            np.full(citizens, "citizen")])
    _write(folder, "users", {"id": users, "role": roles,
                             "agency_id": pa.nulls(len(users), pa.int64()),
                             "centre_id": pa.nulls(len(users), pa.int64())})
    centre_ids = np.arange(1, CENTRES + 1, dtype=np.int64)
    _write(folder, "centres", {"id": centre_ids, "country_id": np.ones(CENTRES, dtype=np.int64),
                               "region_id": centre_ids % REGIONS + 1})
    standard_ids = np.arange(1, SERVICES + 1, dtype=np.int64)
    _write(folder, "standards", {
        "id": standard_ids, "service_id": standard_ids,
        "documents": np.full(SERVICES, '[{"code": "application"}, {"code": "id_document"}]'),
    })
    (folder / FLAG_META).write_text(json.dumps({"rows": {"applications": n}}))


# --------------------------------------------------------------------------- hand SQL

_T = {"s": f"TIMESTAMP '{START:%Y-%m-%d %H:%M:%S}'", "e": f"TIMESTAMP '{END:%Y-%m-%d %H:%M:%S}'"}


def hand_queries(f: Path, p: dict[str, float]) -> dict[str, str]:
    """flag -> SELECT of its cases (the columns of redflags.CASE_COLUMNS that it uses)."""
    s, e = _T["s"], _T["e"]
    apps = f"read_parquet('{f}/flag_applications.parquet')"
    events = f"read_parquet('{f}/flag_events.parquet')"
    tickets = f"read_parquet('{f}/flag_tickets.parquet')"
    dec = f"""(SELECT e.*, a.service_id AS service, a.agency_id AS unit, a.centre_id AS centre,
                 a.deadline_at, a.applicant_national_id AS nid, a.submitted_at
               FROM {events} e JOIN {apps} a ON e.application_id = a.id
               WHERE a.country_id = 1 AND e.action IN ('approve', 'refuse')
                 AND e.actor_role IN ('officer', 'supervisor') AND e.at >= {s} AND e.at < {e})"""
    rethink = int(p["rethink_days"] * 86400)
    riding = int(p["riding_hours"] * 3600)
    local = "(epoch(d.at)::BIGINT + 18000)"
    return {
        "refusal_rate": f"""SELECT service, actor_id AS officer, unit, centre, 1 AS base,
            (action = 'refuse')::INT AS hit FROM {dec} d""",
        "refuse_then_approve": f"""WITH ap AS (SELECT * FROM {dec} d WHERE action = 'approve'),
            r AS (SELECT id, applicant_national_id AS nid, service_id, completed_at
                  FROM {apps} WHERE country_id = 1 AND outcome = 'refused'),
            pairs AS (SELECT ap.id AS ev, min(r.id) AS refused FROM ap JOIN r
                ON ap.nid = r.nid AND ap.service = r.service_id AND r.id <> ap.application_id
                AND epoch(ap.submitted_at) - epoch(r.completed_at) BETWEEN 0 AND {rethink}
                GROUP BY 1)
            SELECT service, actor_id AS officer, unit, centre, 1 AS base,
              (pairs.refused IS NOT NULL)::INT AS hit
            FROM ap LEFT JOIN pairs ON ap.id = pairs.ev""",
        "overturned_refusals": f"""WITH k AS (SELECT DISTINCT application_id FROM
              read_parquet('{f}/flag_complaints.parquet') WHERE country_id = 1
              AND decision IN ('upheld', 'partly_upheld') AND application_id IS NOT NULL)
            SELECT service, actor_id AS officer, unit, 1 AS base,
              (k.application_id IS NOT NULL)::INT AS hit
            FROM {dec} d LEFT JOIN k ON d.application_id = k.application_id
            WHERE d.action = 'refuse'""",
        "deadline_riding": f"""WITH st AS (SELECT application_id, count(*) AS n FROM {events}
              WHERE clock = 'stop' GROUP BY 1)
            SELECT service, actor_id AS officer, unit, 1 AS base,
              ((epoch(deadline_at) - epoch("at") BETWEEN 0 AND {riding})
               OR coalesce(st.n, 0) >= {int(p["repeated_stops"])})::INT AS hit
            FROM {dec} d LEFT JOIN st ON d.application_id = st.application_id""",
        "out_of_order": f"""WITH t AS (SELECT t.*, max(called_at) OVER (PARTITION BY centre_id, day,
              group_id, priority_rank ORDER BY place_at, id ROWS BETWEEN UNBOUNDED PRECEDING
              AND CURRENT ROW) AS latest FROM {tickets} t
              WHERE (place_at >= {s} AND place_at < {e}) OR (called_at >= {s} AND called_at < {e}))
            SELECT group_id AS service, operator_id AS operator, centre_id AS centre, 1 AS base,
              (called_at < latest)::INT AS hit FROM t
            WHERE called_at IS NOT NULL AND operator_id IS NOT NULL
              AND called_at >= {s} AND called_at < {e}""",
        "slot_hoarding": f"""SELECT centre_id AS service, citizen_id AS citizen, 1 AS base, 1 AS hit
            FROM read_parquet('{f}/flag_appointments.parquet')
            WHERE slot_start >= {s} AND slot_start < {e}""",
        "intermediary": f"""SELECT 0 AS service, a.submitted_by_id AS citizen, 1 AS base,
              (a.applicant_id IS NULL OR a.applicant_id <> a.submitted_by_id)::INT AS hit
            FROM {apps} a JOIN read_parquet('{f}/flag_users.parquet') u
              ON a.submitted_by_id = u.id AND u.role = 'citizen'
            WHERE a.country_id = 1 AND a.submitted_at >= {s} AND a.submitted_at < {e}""",
        "counter_time": f"""SELECT group_id AS service, operator_id AS operator,
              centre_id AS centre,
              1 AS base, (service_seconds < {int(p["short_seconds"])}
                          OR service_seconds > {int(p["long_seconds"])})::INT AS hit
            FROM {tickets} WHERE service_seconds IS NOT NULL AND operator_id IS NOT NULL
              AND finished_at >= {s} AND finished_at < {e}""",
        "off_hours": f"""SELECT service, actor_id AS officer, unit, 1 AS base,
              ((({local} % 86400) // 3600) < {int(p["work_start_hour"])}
               OR (({local} % 86400) // 3600) >= {int(p["work_end_hour"])}
               OR (({local} // 86400) + 3) % 7 >= 5)::INT AS hit FROM {dec} d""",
        "rating_burst": f"""WITH r AS (SELECT *, epoch(created_at)::BIGINT // 86400 AS dday,
              (lowest >= {int(p["top_score"])} AND device <> '')::INT AS top
              FROM read_parquet('{f}/flag_ratings.parquet') WHERE country_id = 1
              AND created_at >= {s} AND created_at < {e} AND channel <> 'kiosk'),
            b AS (SELECT device, dday FROM r WHERE top = 1 GROUP BY 1, 2
                  HAVING count(*) >= {int(p["burst_ratings"])})
            SELECT 0 AS service, r.centre_id AS centre, t.operator_id AS operator,
              r.agency_id AS unit, 1 AS base, (b.device IS NOT NULL AND r.top = 1)::INT AS hit
            FROM r LEFT JOIN b ON r.device = b.device AND r.dday = b.dday
            LEFT JOIN {tickets} t ON r.ticket_id = t.id""",
        "complaint_rate": f"""SELECT 0 AS service, centre_id AS centre, operator_id AS operator,
              NULL::BIGINT AS unit, 1 AS base, 0 AS hit FROM {tickets}
              WHERE state = 'served' AND finished_at >= {s} AND finished_at < {e}
            UNION ALL SELECT 0, NULL, NULL, agency_id, 1, 0 FROM {apps}
              WHERE country_id = 1 AND completed_at >= {s} AND completed_at < {e}
            UNION ALL SELECT 0, centre_id, staff_id, agency_id, 0, 1
              FROM read_parquet('{f}/flag_complaints.parquet')
              WHERE country_id = 1 AND registered_at >= {s} AND registered_at < {e}""",
        "extra_documents": f"""WITH ok AS (SELECT id AS standard, list_transform(
              from_json(documents, '[{{"code": "VARCHAR"}}]'), x -> x.code) AS codes
              FROM read_parquet('{f}/flag_standards.parquet'))
            SELECT a.service_id AS service, e.actor_id AS officer, a.agency_id AS unit, 1 AS base,
              (len(list_filter(from_json(json_extract(e.data, '$.requested_documents'),
                   '["VARCHAR"]'), c -> NOT list_contains(ok.codes, c))) > 0)::INT AS hit
            FROM {events} e JOIN {apps} a ON e.application_id = a.id
            LEFT JOIN ok ON a.standard_id = ok.standard
            WHERE a.country_id = 1 AND e.action = 'request_documents'
              AND e.actor_role IN ('officer', 'supervisor') AND e.at >= {s} AND e.at < {e}""",
    }


def hand_counts(con: duckdb.DuckDBPyConnection, queries: dict[str, str]
                ) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(flag, kind) -> (rows, sum n, sum k) of the per-subject counts."""
    out = {}
    for code, sql in queries.items():
        for kind in redflags.SPECS[code].kinds:
            rows = con.execute(f"""SELECT count(*), sum(n), sum(k) FROM (
                SELECT {kind}, service, sum(base) AS n, sum(hit) AS k FROM ({sql})
                WHERE {kind} IS NOT NULL GROUP BY 1, 2)""").fetchone()
            assert rows is not None
            out[(code, kind)] = (int(rows[0]), int(rows[1] or 0), int(rows[2] or 0))
    return out


def ibis_counts(folder: Path) -> dict[tuple[str, str], tuple[int, int, int]]:
    tables = lake_flag_tables(folder)
    config = parse({})
    out = {}
    for code, spec in redflags.SPECS.items():
        cases = redflags.BUILDERS[code](tables, WINDOW, config)
        for kind in spec.kinds:
            counts = redflags._counts(cases, kind)
            out[(code, kind)] = (len(counts), int(counts["n"].sum()), int(counts["k"].sum()))
    return out


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", help="generate into (or reuse) this folder")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="onestop-flags-"))
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / FLAG_META).exists():
        started = time.perf_counter()
        generate(folder, args.applications)
        print(f"generated {args.applications:,} applications in "
              f"{time.perf_counter() - started:,.1f} s into {folder}")
    config = parse({})
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work); "
          f"duckdb {duckdb.__version__}")
    t_all, raised = best(args.repeat, lambda: redflags.compute(
        lake_flag_tables(folder), WINDOW, config))
    t_counts, mine = best(args.repeat, lambda: ibis_counts(folder))
    con = duckdb.connect()
    queries = hand_queries(folder, dict(config.params))
    t_hand, theirs = best(args.repeat, lambda: hand_counts(con, queries))
    differ = [key for key in mine if mine[key] != theirs.get(key)]
    for key in differ:
        print(f"  DIFFER {key}: ibis {mine[key]} hand {theirs.get(key)}")
    print(f"same counts per flag and kind: {'yes' if not differ else 'NO'} "
          f"({len(mine)} flag x kind tables, {sum(v[1] for v in mine.values()):,} cases)")
    print(f"{'ibis, all (scored, evidence)':32} {t_all:8.2f} s  {t_all / t_hand:5.2f}x hand SQL"
          f"  ({len(raised)} raised)")
    print(f"{'ibis, counts':32} {t_counts:8.2f} s  {t_counts / t_hand:5.2f}x hand SQL")
    print(f"{'hand SQL, counts':32} {t_hand:8.2f} s  1.00x")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
