"""Building the open data: per country and period, the datasets of
`onestop.opendata.dictionary` as CSV, JSON and Parquet, with the data dictionary, the
licence, the methodology version and a manifest (files, rows, sha256).

The counts are the quality assessment's own Ibis expressions (`onestop.quality.indicators`,
so a published figure equals the assessment's), plus a few grouped Ibis queries for the
breakdowns (channels, complaint grounds and outcomes, violation kinds) and one projection
per period of the finished applications and served tickets for the medians and 90th
percentiles. No query runs per unit or per row.

Layout of the output folder:
    manifest.json                    every file below with its rows, bytes and sha256
    licence.json
    <cc>/dictionary.json             every dataset and column of the country
    <cc>/<period>/<dataset>.csv|json|parquet
    <cc>/<period>/index.json         the period's files, rows and methodology version
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from onestop.accounts.models import User
from onestop.applications.models import Application, Channel
from onestop.catalogue.models import Agency, Country, Region, Service
from onestop.catalogue.packs import SHIPPED_PACKS
from onestop.centres.models import Centre
from onestop.core.text import localize
from onestop.feedback.models import Rating
from onestop.opendata import dictionary as dic
from onestop.opendata.redact import name_words, redact
from onestop.public import selectors as public_selectors
from onestop.quality import indicators, sources
from onestop.quality import services as quality
from onestop.quality.methodology import Methodology, parse
from onestop.quality.models import Methodology as StoredMethodology
from onestop.quality.selectors import unit_names

FORMATS = ("csv", "json", "parquet")
MANIFEST = "manifest.json"
LICENCE = "licence.json"
DICTIONARY = "dictionary.json"
INDEX = "index.json"
LICENCES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International",
                  "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal",
                "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License v1.0",
                 "https://opendatacommons.org/licenses/odbl/1-0/"),
    "OGL-UK-3.0": ("Open Government Licence v3.0",
                   "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
}
ONLINE_CHANNELS = tuple(ch for ch in Channel.values if ch != Channel.CENTRE)


class OpenDataError(Exception):
    """Open data that cannot be built; the message says why."""


# --------------------------------------------------------------------------- context


def licence() -> dict[str, str]:
    """The licence of every file (settings ONESTOP_OPENDATA_LICENCE, an SPDX id, and
    ONESTOP_OPENDATA_LICENCE_URL for one not in LICENCES)."""
    code = getattr(settings, "OPENDATA_LICENCE", "CC-BY-4.0") or "CC-BY-4.0"
    name, url = LICENCES.get(code, (code, ""))
    return {"id": code, "name": name,
            "url": getattr(settings, "OPENDATA_LICENCE_URL", "") or url}


def default_dir() -> Path:
    return Path(getattr(settings, "OPENDATA_DIR", settings.DATA_DIR / "opendata"))


def methodology_for(country: Country) -> tuple[StoredMethodology, Methodology]:
    """The country's latest stored methodology version, else the one of its shipped pack
    (stored as `onestop assess` would)."""
    stored = StoredMethodology.objects.filter(country=country).order_by("-loaded_at",
                                                                        "-pk").first()
    if stored is None:
        folder = SHIPPED_PACKS / country.code
        if not (folder / quality.METHODOLOGY_FILE).exists():
            raise OpenDataError(f"no methodology for {country.code}: run `onestop assess` "
                                "with --pack first")
        try:
            stored = quality.load_methodology(
                country=country, definition=quality.read_methodology(folder))
        except quality.AssessmentError as exc:
            raise OpenDataError(str(exc)) from None
    return stored, parse(stored.definition)


def periods_with_data(country: Country, *, now: dt.datetime | None = None) -> list[str]:
    """The quarters and years, begun by `now`, in which the country has applications."""
    span = Application.objects.filter(country=country).aggregate(
        first=Min("submitted_at"), last=Max("submitted_at"))
    if span["first"] is None:
        return []
    zone = ZoneInfo(country.time_zone)
    first = span["first"].astimezone(zone).date()
    last = min(span["last"], now or timezone.now()).astimezone(zone).date()
    periods: list[str] = []
    for year in range(first.year, last.year + 1):
        for q in range(1, 5):
            start = dt.date(year, 3 * q - 2, 1)
            end = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)
            if start <= last and end > first:
                periods.append(f"{year}-Q{q}")
        periods.append(str(year))
    return periods


@dataclass
class _Ctx:
    country: Country
    period: str
    m: Methodology
    stored: StoredMethodology
    tables: indicators.Tables
    window: indicators.Window
    starts_at: dt.datetime
    ends_at: dt.datetime


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _context(country: Country, period: str, stored: StoredMethodology, m: Methodology,
             now: dt.datetime) -> _Ctx:
    zone = ZoneInfo(country.time_zone)
    try:
        starts_at, ends_at = quality.period_bounds(period, zone)
    except quality.AssessmentError as exc:
        raise OpenDataError(str(exc)) from None
    on = (ends_at - dt.timedelta(microseconds=1)).astimezone(zone).date()
    window = indicators.Window(country_id=country.pk, start=_naive(starts_at),
                               end=_naive(ends_at), as_of=_naive(now))
    return _Ctx(country, period, m, stored, sources.live_tables(country, on), window,
                starts_at, ends_at)


# --------------------------------------------------------------------------- queries


def _in(column: ir.Value, w: indicators.Window) -> ir.BooleanValue:
    return ((column >= ibis.literal(w.start, type="timestamp"))
            & (column < ibis.literal(w.end, type="timestamp")))


def _regions(t: indicators.Tables) -> ir.Table:
    return t.centres.select(c_id=t.centres.id, c_region=t.centres.region_id)


def _units(expr: ir.Table, *, agency: ir.Value, region: ir.Value, centre: ir.Value,
           service: ir.Value) -> ir.Table:
    return expr.mutate(u_agency=agency, u_region=region, u_centre=centre, u_service=service)


def _applications(c: _Ctx) -> ir.Table:
    a = c.tables.applications
    a = a.filter(a.country_id == c.window.country_id)
    r = _regions(c.tables)
    a = a.left_join(r, a.centre_id == r.c_id)
    return _units(a, agency=a.agency_id, region=ibis.coalesce(a.region_id, a.c_region),
                  centre=a.centre_id, service=a.service_id)


def _complaints(c: _Ctx) -> ir.Table:
    k = c.tables.complaints
    k = k.filter((k.country_id == c.window.country_id) & _in(k.registered_at, c.window))
    a = c.tables.applications
    apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id,
                    a_agency=a.agency_id)
    r = _regions(c.tables)
    k = k.left_join(apps, k.application_id == apps.a_id).left_join(r, k.centre_id == r.c_id)
    return _units(k, agency=ibis.coalesce(k.agency_id, k.a_agency),
                  region=ibis.coalesce(k.a_region, k.c_region), centre=k.centre_id,
                  service=k.a_service)


def _violations(c: _Ctx) -> ir.Table:
    v = c.tables.violations
    v = v.filter((v.country_id == c.window.country_id) & _in(v.found_at, c.window))
    a = c.tables.applications
    apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id)
    r = _regions(c.tables)
    v = v.left_join(apps, v.application_id == apps.a_id).left_join(r, v.centre_id == r.c_id)
    return _units(v, agency=v.agency_id, region=ibis.coalesce(v.a_region, v.c_region),
                  centre=v.centre_id, service=v.a_service)


def _grouped(t: ir.Table, scope: str, by: Sequence[str], **aggs: ir.Value) -> list[dict[str, Any]]:
    g = t.group_by([t[f"u_{scope}"].name("unit"), *by]).aggregate(**aggs)
    g = g.filter(g.unit.notnull())
    rows: list[dict[str, Any]] = g.to_pyarrow().to_pylist()
    return rows


def _quantile(values: list[float], q: float) -> float | None:
    """The nearest-rank quantile (q in (0, 1]) of `values`."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _ratio(part: float | None, whole: float | None, digits: int = 4) -> float | None:
    if part is None or not whole:
        return None
    return round(float(part) / float(whole), digits)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# --------------------------------------------------------------------------- units


def _unit_meta(country: Country, scope: str, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    ids = sorted(set(ids))
    languages = list(country.languages)
    if scope == "service":
        codes = dict(Service.objects.filter(pk__in=ids).values_list("pk", "code"))
        names = unit_names("service", ids)
    else:
        model: Any = {"agency": Agency, "region": Region, "centre": Centre}[scope]
        found = model.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        codes = {pk: code for pk, code, _ in found}
        names = {pk: name for pk, _, name in found}
    return {pk: (codes.get(pk, str(pk)), localize(names.get(pk), "en", languages))
            for pk in ids}


# --------------------------------------------------------------------------- datasets


def _performance(c: _Ctx, scope: str,
                 data: dict[str, dict[str, dict[int, list[float]]]]) -> list[dict[str, Any]]:
    """One row per unit, before suppression (its id in `_unit`)."""
    m, w, t = c.m, c.window, c.tables
    units: dict[int, dict[str, float]] = defaultdict(dict)
    for query in indicators.MEASURE_QUERIES:
        for found in query(t, w, scope, m).to_pyarrow().to_pylist():
            unit = int(found.pop("unit"))
            units[unit].update({k: float(v or 0) for k, v in found.items()})
    a = _applications(c)
    received = a.filter(_in(a.submitted_at, w))
    channels: dict[int, dict[str, int]] = defaultdict(dict)
    for found in _grouped(received, scope, ["channel"], n=received.count()):
        channels[int(found["unit"])][found["channel"]] = int(found["n"])
        units.setdefault(int(found["unit"]), {})
    times = data["processing"].get(scope, {})
    waits = data["waits"].get(scope, {})
    meta = _unit_meta(c.country, scope, units)
    rows = []
    for unit in sorted(units, key=lambda u: meta[u][0]):
        n = units[unit]
        submitted = int(n.get("submitted", 0))
        finished = int(n.get("finished", 0))
        late = int(n.get("late", 0))
        ratings = int(n.get("ratings", 0))
        served = int(n.get("served", 0))
        days = times.get(unit, [])
        row: dict[str, Any] = {
            "_unit": unit, "period": c.period,
            "unit_code": meta[unit][0], "unit_name": meta[unit][1],
            "applications_received": submitted,
            **{f"received_{ch}": channels[unit].get(ch, 0) for ch in Channel.values},
            "digital_share": _ratio(n.get("digital"), submitted),
            "applications_completed": finished,
            "completed_on_time": finished - late,
            "deadline_compliance": _ratio(finished - late, finished),
            "processing_days_median": _rounded(_median(days), 2),
            "processing_days_p90": _rounded(_quantile(days, 0.9), 2),
            "refusals": int(n.get("refusals", 0)),
            "refusal_rate": _ratio(n.get("refusals", 0), finished),
            "ratings": ratings,
            "response_rate": _ratio(ratings, finished),
        }
        for crit in m.criteria:
            rated = int(n.get(f"rated_{crit}", 0))
            row[f"rated_{crit}"] = rated
            row[f"satisfaction_mean_{crit}"] = _ratio(n.get(f"score_sum_{crit}"), rated, 2)
            row[f"satisfied_share_{crit}"] = _ratio(n.get(f"satisfied_{crit}"), rated)
        row.update({
            "complaints": int(n.get("complaints", 0)),
            "complaints_answered_in_time": int(n.get("answered_in_time", 0)),
            "complaints_upheld": int(n.get("upheld", 0)),
            "violations": int(n.get("violations", 0)),
            "violations_self_found": int(n.get("violations_self", 0)),
            "tickets_served": served,
            "wait_minutes_median": _rounded(_median([s / 60 for s in waits.get(unit, [])]), 1),
            "wait_compliance": _ratio(n.get("served_in_time"), served),
        })
        rows.append(row)
    return rows


def _breakdown(c: _Ctx, scope: str, kind: str) -> list[dict[str, Any]]:
    if kind == "complaints":
        k = _complaints(c)
        known = (k.decided_at.notnull()
                 & (k.decided_at <= ibis.literal(c.window.as_of, type="timestamp"))
                 & (k.decision != ""))
        k = k.mutate(outcome=ibis.ifelse(known, k.decision, "pending"))
        found = _grouped(k, scope, ["level", "ground", "outcome"], complaints=k.count())
        categories, count = ["level", "ground", "outcome"], "complaints"
    else:
        v = _violations(c)
        found = _grouped(v, scope, ["kind"], violations=v.count())
        categories, count = ["kind"], "violations"
    meta = _unit_meta(c.country, scope, [int(r["unit"]) for r in found])
    rows = [{"period": c.period, "unit_code": meta[int(r["unit"])][0],
             "unit_name": meta[int(r["unit"])][1],
             **{k: r[k] for k in categories}, count: int(r[count])} for r in found]
    merged = dic.merge_small(rows, keys=["period", "unit_code", "unit_name"], count=count,
                             categories=categories)
    return sorted(merged, key=lambda r: (r["unit_code"], r[categories[0]] == dic.OTHER,
                                         *(str(r[x]) for x in categories)))


def _projections(c: _Ctx) -> dict[str, dict[str, dict[int, list[float]]]]:
    """Per scope and unit: processing days of the finished applications and waits (in
    seconds) of the served tickets, from one projection each."""
    w = c.window
    a = _applications(c)
    done = a.filter(a.outcome.isin(list(c.m.finished_outcomes)) & _in(a.completed_at, w))
    done = done.select("u_agency", "u_region", "u_centre", "u_service", "submitted_at",
                       "completed_at")
    processing: dict[str, dict[int, list[float]]] = {s: defaultdict(list) for s in dic.SCOPES}
    for row in done.to_pyarrow().to_pylist():
        days = (row["completed_at"] - row["submitted_at"]).total_seconds() / 86400
        for s in dic.SCOPES:
            if row[f"u_{s}"] is not None:
                processing[s][int(row[f"u_{s}"])].append(days)
    t = c.tables.tickets
    r = c.tables.centres.filter(c.tables.centres.country_id == w.country_id)
    r = r.select(c_id=r.id, c_region=r.region_id)
    t = t.filter((t.state == "served") & _in(t.finished_at, w) & t.wait_seconds.notnull())
    t = t.inner_join(r, t.centre_id == r.c_id).select("centre_id", "c_region", "wait_seconds")
    waits: dict[str, dict[int, list[float]]] = {"centre": defaultdict(list),
                                                "region": defaultdict(list)}
    for row in t.to_pyarrow().to_pylist():
        waits["centre"][int(row["centre_id"])].append(float(row["wait_seconds"]))
        waits["region"][int(row["c_region"])].append(float(row["wait_seconds"]))
    return {"processing": processing, "waits": waits}


def _comments(c: _Ctx, names: Callable[[], frozenset[str]]) -> list[dict[str, Any]]:
    zone = ZoneInfo(c.country.time_zone)
    found = (Rating.objects.filter(country=c.country, created_at__gte=c.starts_at,
                                   created_at__lt=c.ends_at).exclude(comment="")
             .order_by("created_at", "pk")
             .values("created_at", "scores", "comment", "application__service__code",
                     "application__agency__code", "agency__code", "centre__code"))
    rows = []
    words = names() if found.exists() else frozenset()
    for r in found.iterator():
        scores = r["scores"] if isinstance(r["scores"], dict) else {}
        rows.append({
            "period": c.period,
            "month": r["created_at"].astimezone(zone).strftime("%Y-%m"),
            "service_code": r["application__service__code"] or "",
            "agency_code": r["agency__code"] or r["application__agency__code"] or "",
            "centre_code": r["centre__code"] or "",
            **{f"score_{k}": (int(scores[k]) if isinstance(scores.get(k), int) else None)
               for k in c.m.criteria},
            "comment": redact(r["comment"], words),
        })
    return rows


def _sdg(c: _Ctx, services: list[dict[str, Any]], ds: dic.Dataset,
         data: dict[str, dict[str, dict[int, list[float]]]]) -> list[dict[str, Any]]:
    """From the unsuppressed service figures: requests and response times per service."""
    zone = ZoneInfo(c.country.time_zone)
    providers = dict(Service.objects.filter(country=c.country)
                     .values_list("code", "provider__code"))
    rows = []
    for s in services:
        finished = s["applications_completed"]
        days = data["processing"]["service"].get(s["_unit"], [])
        rows.append(dic.suppress({
            "reporting_period": c.period,
            "period_start": c.starts_at.astimezone(zone).date().isoformat(),
            "period_end": (c.ends_at.astimezone(zone).date()
                           - dt.timedelta(days=1)).isoformat(),
            "country": c.country.code.upper(),
            "service_provider": providers.get(s["unit_code"], ""),
            "subject_matter": s["unit_code"],
            "requests_total": s["applications_received"],
            "requests_online": sum(s[f"received_{ch}"] for ch in ONLINE_CHANNELS),
            "requests_in_person": s[f"received_{Channel.CENTRE}"],
            "requests_citizens": None, "requests_businesses": None,
            "requests_cross_border": None, "requests_national": None,
            "requests_closed": finished,
            "response_time_days_average": _rounded(sum(days) / len(days), 2) if days else None,
            "response_time_days_median": s["processing_days_median"],
            "answered_within_deadline_share": s["deadline_compliance"],
        }, ds.columns))
    return rows


# --------------------------------------------------------------------------- writing


_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
          "boolean": pa.bool_()}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_dataset(folder: Path, ds: dic.Dataset, rows: list[dict[str, Any]],
                  meta: Mapping[str, Any]) -> list[Path]:
    """`<code>.csv`, `.json` and `.parquet` of the rows (only the dataset's columns)."""
    names = ds.names
    clean = [{n: row.get(n) for n in names} for row in rows]
    paths = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in clean:
        writer.writerow([_csv_cell(row[n]) for n in names])
    path = folder / f"{ds.code}.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    paths.append(path)
    path = folder / f"{ds.code}.json"
    document = {"dataset": ds.code, "title": ds.title, **meta, "columns": names, "rows": clean}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    paths.append(path)
    schema = pa.schema([pa.field(col.name, _ARROW[col.type]) for col in ds.columns],
                       metadata={"onestop": json.dumps({"dataset": ds.code, **meta})})
    path = folder / f"{ds.code}.parquet"
    pq.write_table(pa.Table.from_pylist(clean, schema=schema), path)
    paths.append(path)
    return paths


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def country_datasets(country: Country, m: Methodology) -> list[dic.Dataset]:
    datasets = []
    for scope in dic.SCOPES:
        datasets += [dic.performance(scope, Channel.values, m.criteria),
                     dic.complaints(scope), dic.violations(scope)]
    return [*datasets, dic.comments(m.criteria), dic.sdg()]


def build_period(out_dir: Path, country: Country, period: str, *,
                 now: dt.datetime | None = None,
                 names: Callable[[], frozenset[str]] | None = None) -> list[Path]:
    """Write every dataset of one country and period under `<out>/<cc>/<period>/`."""
    now = now or timezone.now()
    stored, m = methodology_for(country)
    c = _context(country, period, stored, m, now)
    folder = Path(out_dir) / country.code / period
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    meta = {"country": country.code, "period": period,
            "methodology_version": stored.version, "methodology_example": stored.example,
            "licence": licence()["id"], "generated_at": now.isoformat()}
    data = _projections(c)
    by_code = {ds.code: ds for ds in country_datasets(country, m)}
    written: list[Path] = []
    rows_of: dict[str, int] = {}
    service_rows: list[dict[str, Any]] = []
    for scope in dic.SCOPES:
        ds = by_code[f"performance_{scope}"]
        raw_rows = _performance(c, scope, data)
        if scope == "service":
            service_rows = raw_rows
        rows_of[ds.code] = len(raw_rows)
        written += write_dataset(folder, ds, [dic.suppress(r, ds.columns) for r in raw_rows],
                                 meta)
        for kind in ("complaints", "violations"):
            ds = by_code[f"{kind}_{scope}"]
            rows = _breakdown(c, scope, kind)
            rows_of[ds.code] = len(rows)
            written += write_dataset(folder, ds, rows, meta)
    ds = by_code["sdg_statistics"]
    rows = _sdg(c, service_rows, ds, data)
    rows_of[ds.code] = len(rows)
    written += write_dataset(folder, ds, rows, meta)
    ds = by_code["rating_comments"]
    rows = _comments(c, names or known_names)
    rows_of[ds.code] = len(rows)
    written += write_dataset(folder, ds, rows, meta)
    index = {**meta, "datasets": rows_of, "files": sorted(p.name for p in written)}
    (folder / INDEX).write_text(json.dumps(index, indent=1, ensure_ascii=False))
    return written


def known_names() -> frozenset[str]:
    """The words of the names of every person known to the system: accounts and
    applicants."""
    names: set[str] = set()
    for first, last in User.objects.values_list("first_name", "last_name").distinct().iterator():
        names.update((first, last))
    names.update(Application.objects.exclude(applicant_name="")
                 .values_list("applicant_name", flat=True).distinct().iterator())
    return name_words(names)


def write_metadata(out_dir: Path, countries: Iterable[Country]) -> list[Path]:
    """The licence, each country's dictionary and the manifest of everything under
    `out_dir` (every period's files, from their index)."""
    out_dir = Path(out_dir)
    written = []
    path = out_dir / LICENCE
    path.write_text(json.dumps(licence(), indent=1))
    written.append(path)
    for country in countries:
        stored, m = methodology_for(country)
        path = out_dir / country.code / DICTIONARY
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "country": country.code, "methodology_version": stored.version,
            "suppression": {"threshold": dic.THRESHOLD},
            "datasets": [ds.as_dict() for ds in country_datasets(country, m)],
        }, indent=1, ensure_ascii=False))
        written.append(path)
    heads = dic.audit_heads()
    rows = [{"day": h.day.isoformat(), "sequence": h.sequence, "hash": h.hash,
             "head": f"{h.sequence}:{h.hash}"} for h in public_selectors.heads()]
    head_files = write_dataset(out_dir, heads, rows, {"licence": licence()["id"],
                                                      "generated_at": timezone.now().isoformat()})
    written += head_files
    files = []
    for file in head_files:
        files.append({"path": file.name, "country": "", "period": "", "dataset": heads.code,
                      "format": file.suffix.lstrip("."), "rows": len(rows),
                      "bytes": file.stat().st_size, "sha256": _sha256(file)})
    periods: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index_path in sorted(out_dir.glob(f"*/*/{INDEX}")):
        index = json.loads(index_path.read_text())
        cc, period = index["country"], index["period"]
        periods[cc].append({"period": period, "methodology_version":
                            index["methodology_version"],
                            "methodology_example": index.get("methodology_example", False),
                            "generated_at": index["generated_at"]})
        for name in index["files"]:
            file = index_path.parent / name
            code, _, fmt = name.rpartition(".")
            files.append({"path": f"{cc}/{period}/{name}", "country": cc, "period": period,
                          "dataset": code, "format": fmt,
                          "rows": index["datasets"].get(code), "bytes": file.stat().st_size,
                          "sha256": _sha256(file)})
    for extra in [out_dir / LICENCE, *sorted(out_dir.glob(f"*/{DICTIONARY}"))]:
        files.append({"path": extra.relative_to(out_dir).as_posix(), "country": "",
                      "period": "", "dataset": extra.stem, "format": "json", "rows": None,
                      "bytes": extra.stat().st_size, "sha256": _sha256(extra)})
    manifest = {"generated_at": timezone.now().isoformat(), "licence": licence(),
                "suppression_threshold": dic.THRESHOLD,
                "countries": {cc: sorted(p, key=_period_key) for cc, p in periods.items()},
                "files": files}
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    written.append(path)
    return written


def _period_key(item: Mapping[str, Any]) -> tuple[str, int, str]:
    period = str(item["period"])
    return (period[:4], 0 if "-" in period else 1, period)


def build(out_dir: Path, *, country: Country, periods: Sequence[str] | None = None,
          progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write one country's periods (every period with data when none are given) and
    the metadata."""
    now = timezone.now()
    periods = list(periods) if periods else periods_with_data(country, now=now)
    cache: dict[str, frozenset[str]] = {}

    def names() -> frozenset[str]:
        if "names" not in cache:
            cache["names"] = known_names()
        return cache["names"]

    written: list[Path] = []
    for period in periods:
        written += build_period(out_dir, country, period, now=now, names=names)
        if progress:
            progress(period)
    countries = list(Country.objects.filter(code__in=[
        p.name for p in Path(out_dir).iterdir() if p.is_dir()]))
    return written + write_metadata(out_dir, countries)


def write_all(out_dir: Path, *, country: str | None = None) -> list[Path]:
    """Everything for every period with data, of one country (by code) or all."""
    countries = Country.objects.all() if country is None else Country.objects.filter(
        code=country)
    if country is not None and not countries.exists():
        raise OpenDataError(f"no country {country!r} is loaded")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in countries:
        written += build(out_dir, country=item)
    return written
