"""Reads of the stored red flags: the latest run of a period, the subjects by risk with
their flags and evidence, and the public counts per agency and region."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from onestop.catalogue.models import Agency, Country, Region
from onestop.integrity.models import FlagResult, FlagRun

SMALL_COUNT = 10  # public counts below this are suppressed


def latest_run(country: Country, period: str) -> FlagRun | None:
    return FlagRun.objects.filter(country=country, period=period).order_by(
        "-created_at", "-pk").first()


def results(run: FlagRun, *, agency_id: int | None = None, region_id: int | None = None,
            service_id: int | None = None, flag: str | None = None) -> QuerySet[FlagResult]:
    rows = FlagResult.objects.filter(run=run)
    if agency_id is not None:
        rows = rows.filter(agency_id=agency_id)
    if region_id is not None:
        rows = rows.filter(region_id=region_id)
    if service_id is not None:
        rows = rows.filter(service_id=service_id)
    if flag:
        rows = rows.filter(flag=flag)
    return rows


def subjects_by_risk(rows: QuerySet[FlagResult], *, limit: int = 100, offset: int = 0
                     ) -> tuple[int, list[dict[str, Any]]]:
    """Subjects ordered by risk score (the sum of their raised flags' points, within the
    filters), each with its flags; the total number of subjects and one page."""
    subjects: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows.order_by("-score", "pk"):
        key = (r.subject_kind, r.subject_id)
        entry = subjects.setdefault(key, {
            "kind": r.subject_kind, "id": r.subject_id, "agency_id": r.agency_id,
            "region_id": r.region_id, "risk": 0.0, "flags": []})
        entry["risk"] = round(entry["risk"] + r.score, 4)
        entry["flags"].append({
            "flag": r.flag, "service_id": r.service_id, "value": r.value, "z": r.z, "n": r.n,
            "hits": r.hits, "peers_n": r.peers_n, "score": r.score, "evidence": r.evidence})
    ordered = sorted(subjects.values(), key=lambda e: (-e["risk"], e["kind"], e["id"]))
    return len(ordered), ordered[offset: offset + limit]


def public_summary(run: FlagRun) -> dict[str, list[dict[str, Any]]]:
    """Flagged subjects per agency and per region (no names), counts below SMALL_COUNT
    suppressed (None)."""
    per_agency: dict[int, set[tuple[str, int]]] = {}
    per_region: dict[int, set[tuple[str, int]]] = {}
    for kind, subject, agency, region in FlagResult.objects.filter(run=run).values_list(
            "subject_kind", "subject_id", "agency_id", "region_id"):
        if kind == "citizen":  # private persons are never counted in public
            continue
        if agency is not None:
            per_agency.setdefault(agency, set()).add((kind, subject))
        if region is not None:
            per_region.setdefault(region, set()).add((kind, subject))
    agencies = dict(Agency.objects.filter(pk__in=per_agency).values_list("pk", "code"))
    regions = dict(Region.objects.filter(pk__in=per_region).values_list("pk", "code"))

    def shown(count: int) -> int | None:
        return count if count >= SMALL_COUNT else None

    return {
        "agencies": [{"code": agencies.get(pk, str(pk)), "flagged": shown(len(s)),
                      "suppressed": len(s) < SMALL_COUNT}
                     for pk, s in sorted(per_agency.items(), key=lambda kv: agencies.get(
                         kv[0], ""))],
        "regions": [{"code": regions.get(pk, str(pk)), "flagged": shown(len(s)),
                     "suppressed": len(s) < SMALL_COUNT}
                    for pk, s in sorted(per_region.items(), key=lambda kv: regions.get(
                        kv[0], ""))],
    }
