"""File exports of the interchange formats, for `onestop export cpsv` and
`onestop export xes`: each checks its input, writes one file and says what it wrote."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from onestop.catalogue import selectors as catalogue
from onestop.catalogue.models import Country
from onestop.interop import cpsv, selectors, xes
from onestop.quality.selectors import PERIOD_PATTERN
from onestop.quality.services import AssessmentError, period_bounds

_COUNTRY = re.compile(r"^[a-z]{2}$")
_PERIOD = re.compile(PERIOD_PATTERN)
_SERVICE = re.compile(r"^[A-Za-z0-9_-]{1,8}$")


class ExportError(Exception):
    """An export that cannot be made; the message says why in one line."""


def resolve_country(code: str | None) -> Country:
    """The given country, or the configured one, or the only one loaded."""
    if code is not None:
        if not _COUNTRY.fullmatch(code):
            raise ExportError(f"country {code!r}: give a pack's two-letter code, e.g. kz")
        country = catalogue.country_by_code(code)
        if country is None:
            raise ExportError(f"no country {code!r} is loaded (`onestop load-pack {code}`)")
        return country
    country = (catalogue.country_by_code(settings.ONESTOP_COUNTRY)
               or catalogue.countries().first())
    if country is None:
        raise ExportError("no country pack is loaded yet: run `onestop load-pack kz`")
    return country


def _write_atomically(path: Path, write: Callable[[Any], object], *, binary: bool) -> None:
    """Write through a temporary file beside `path`, renamed over it once complete, so a
    failed export never leaves half a file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if binary:
            with temporary.open("wb") as raw:
                write(raw)
        else:
            with temporary.open("w", encoding="utf-8") as text:
                write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class CpsvResult:
    services: int
    triples: int
    validation: cpsv.Validation | None


def export_cpsv(*, out: Path, country: str | None = None, fmt: str = "ttl",
                base: str = "http://127.0.0.1:8000", validate: bool = False) -> CpsvResult:
    if fmt not in cpsv.FORMATS:
        raise ExportError(f"format {fmt!r}: use one of {', '.join(sorted(cpsv.FORMATS))}")
    if not re.match(r"^https?://[^\s/]+", base):
        raise ExportError(f"base URL {base!r}: give an http(s) address, e.g. "
                          "https://services.example.org")
    target = resolve_country(country)
    entries = selectors.register(target)
    graph = cpsv.build_graph(target, entries, base)
    data = cpsv.serialize(graph, fmt)
    _write_atomically(out, lambda f: f.write(data), binary=True)
    checked = cpsv.validate(graph) if validate else None
    return CpsvResult(services=len(entries), triples=len(graph), validation=checked)


def export_xes(*, out: Path, service: str, period: str,
               country: str | None = None) -> xes.Written:
    if not _SERVICE.fullmatch(service):
        raise ExportError(f"service {service!r}: give the service's code, e.g. 01010001")
    if not _PERIOD.fullmatch(period):
        raise ExportError(f"period {period!r}: use a year (2026), a half (2026-H2), "
                          "a quarter (2026-Q3) or a month (2026-07)")
    target = resolve_country(country)
    found = catalogue.service_by_code(target, service)
    if found is None:
        raise ExportError(f"no service {service!r} in the register of {target.code}")
    try:
        start, end = period_bounds(period, ZoneInfo(target.time_zone))
    except AssessmentError as exc:
        raise ExportError(str(exc)) from None
    rows = selectors.event_log(target, found, start, end)
    name = f"{target.code}/{found.code} {period}"
    counts: list[xes.Written] = []
    _write_atomically(out, lambda f: counts.append(xes.write(
        f, rows, name=name, description=f"applications for service {found.code} "
        f"submitted in {period} ({target.code}), with all their events")), binary=False)
    return counts[0]
