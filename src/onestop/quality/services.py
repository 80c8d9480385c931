"""Write use cases of the quality assessment: load a methodology version from a pack, run
an assessment and store it, reproduce a stored run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from django.db import connection, transaction
from django.utils import timezone

from onestop.catalogue.models import Agency, Country, Region, Service
from onestop.centres.models import Centre
from onestop.quality import indicators, sources
from onestop.quality.methodology import (
    SCOPES,
    MethodologyError,
    UnitScore,
    assess,
    definition_hash,
    parse,
)
from onestop.quality.models import AssessmentResult, AssessmentRun, Methodology

METHODOLOGY_FILE = "methodology.yaml"

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<q>[1-4])|H(?P<h>[12])|(?P<m>\d{2})))?$")


class AssessmentError(Exception):
    """An assessment that cannot be run; the message says why."""


def period_bounds(period: str, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of "2026", "2026-H2", "2026-Q3" or "2026-07" at local midnight of the
    country, as aware UTC datetimes."""
    match = _PERIOD.match(period.strip())
    if not match:
        raise AssessmentError(
            f"period {period!r}: use a year (2026), a half (2026-H2), a quarter (2026-Q3) "
            "or a month (2026-07)"
        )
    year = int(match["year"])
    if match["q"]:
        first, months = 3 * (int(match["q"]) - 1) + 1, 3
    elif match["h"]:
        first, months = 6 * (int(match["h"]) - 1) + 1, 6
    elif match["m"]:
        first, months = int(match["m"]), 1
        if not 1 <= first <= 12:
            raise AssessmentError(f"period {period!r}: no month {first}")
    else:
        first, months = 1, 12
    end_month = first + months
    start = dt.datetime(year, first, 1, tzinfo=zone)
    end = dt.datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def read_methodology(pack_dir: Path) -> dict[str, Any]:
    """The methodology document of a pack folder (its `methodology.yaml`), checked."""
    path = Path(pack_dir) / METHODOLOGY_FILE
    if not path.exists():
        raise AssessmentError(f"{path} is missing: the pack has no assessment methodology")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AssessmentError(f"{path}: not valid YAML ({exc})") from None
    try:
        parse(document)
    except MethodologyError as exc:
        raise AssessmentError(f"{path}: {exc}") from None
    return dict(document)


@transaction.atomic
def load_methodology(*, country: Country, definition: dict[str, Any],
                     now: dt.datetime | None = None) -> Methodology:
    """Store this version of the methodology (once); the same version with another
    definition is refused: versions are never edited."""
    try:
        checked = parse(definition)
    except MethodologyError as exc:
        raise AssessmentError(str(exc)) from None
    digest = definition_hash(definition)
    existing = Methodology.objects.filter(country=country, version=checked.version).first()
    if existing is not None:
        if existing.sha256 != digest:
            raise AssessmentError(
                f"methodology version {checked.version} of {country.code} is already stored "
                "with another definition: give the changed methodology a new version"
            )
        return existing
    return Methodology.objects.create(
        country=country, version=checked.version, definition=definition, sha256=digest,
        example=checked.example, loaded_at=now or timezone.now(),
    )


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _codes(scope: str, ids: list[int]) -> dict[int, str]:
    if scope == "operator":  # no names: the account's number only
        return {pk: str(pk) for pk in ids}
    model = {"agency": Agency, "region": Region, "centre": Centre, "service": Service}[scope]
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "code"))  # type: ignore[attr-defined]


def _result_rows(scores: list[UnitScore]) -> list[dict[str, Any]]:
    rows = []
    for item in scores:
        values = {
            code: {"value": v.value, "n": v.n, **({"detail": dict(v.detail)} if v.detail else {})}
            for code, v in item.values.items()
        }
        rows.append({
            "unit_id": int(item.unit), "n": item.n, "ranked": item.ranked, "rank": item.rank,
            "score": item.score, "band": item.band, "penalty": item.penalty, "values": values,
        })
    return rows


def results_hash(rows: list[dict[str, Any]]) -> str:
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def compute(*, country: Country, methodology: Methodology, scope: str,
            starts_at: dt.datetime, ends_at: dt.datetime, as_of: dt.datetime,
            lake: Path | None = None) -> tuple[list[UnitScore], dict[str, dict[str, float]]]:
    """Every unit's counts (Ibis, on the live database or the lake) and scores (pure)."""
    if scope not in SCOPES:
        raise AssessmentError(f"scope {scope!r}: one of {', '.join(SCOPES)}")
    checked = parse(methodology.definition)
    window = indicators.Window(
        country_id=country.pk, start=_naive_utc(starts_at), end=_naive_utc(ends_at),
        as_of=_naive_utc(as_of),
    )
    on = (ends_at - dt.timedelta(microseconds=1)).astimezone(ZoneInfo(country.time_zone)).date()
    try:
        tables = (sources.lake_tables(lake, country.pk) if lake is not None
                  else sources.live_tables(country, on))
    except sources.SourceError as exc:
        raise AssessmentError(str(exc)) from None
    counts = indicators.unit_counts(tables, window, scope, checked)
    return assess(checked, counts), counts


@transaction.atomic
def run_assessment(*, country: Country, period: str, scope: str = "agency",
                   methodology: Methodology | None = None, lake: Path | None = None,
                   as_of: dt.datetime | None = None, now: dt.datetime | None = None,
                   reproduces: AssessmentRun | None = None) -> AssessmentRun:
    """Compute and store one assessment run. `as_of` (default: now) bounds what is
    known: complaint decisions after it do not count. The methodology is the country's
    latest loaded version unless given."""
    now = now or timezone.now()
    if methodology is None:
        methodology = Methodology.objects.filter(country=country).order_by("-loaded_at",
                                                                           "-pk").first()
        if methodology is None:
            raise AssessmentError(f"no methodology is loaded for {country.code}")
    starts_at, ends_at = period_bounds(period, ZoneInfo(country.time_zone))
    as_of = as_of or now
    scores, counts = compute(country=country, methodology=methodology, scope=scope,
                             starts_at=starts_at, ends_at=ends_at, as_of=as_of, lake=lake)
    rows = _result_rows(scores)
    run = AssessmentRun.objects.create(
        country=country, methodology=methodology, period=period.strip(), scope=scope,
        starts_at=starts_at, ends_at=ends_at, as_of=as_of,
        source=f"lake:{Path(lake).resolve()}" if lake is not None else f"live:{connection.vendor}",
        created_at=now, reproduces=reproduces, results_sha256=results_hash(rows),
    )
    codes = _codes(scope, [row["unit_id"] for row in rows])
    AssessmentResult.objects.bulk_create(
        AssessmentResult(run=run, unit_code=codes.get(row["unit_id"], str(row["unit_id"])),
                         counts=counts[str(row["unit_id"])], **row)
        for row in rows
    )
    return run


def reproduce(*, run: AssessmentRun, lake: Path | None = None,
              now: dt.datetime | None = None) -> AssessmentRun:
    """Compute a stored run again with its methodology version, window and `as_of`, and
    store the new run pointing back to it; compare `results_sha256` to see whether the
    results are the same."""
    return run_assessment(
        country=run.country, period=run.period, scope=run.scope,
        methodology=run.methodology, lake=lake, as_of=run.as_of, now=now, reproduces=run,
    )

