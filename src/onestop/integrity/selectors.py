"""Reads of the stored red flags: the latest run of a period, the subjects by risk with
their flags and evidence, and the public counts per agency and region."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.catalogue.models import Agency, Country, Region
from onestop.centres.models import Centre, Ticket
from onestop.feedback.models import Complaint
from onestop.integrity.models import CaseFile, FlagResult, FlagRun

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


# --------------------------------------------------------------------------- workspace

CONTROL_ROLE = "controller"
SUPERVISOR_ROLE = "supervisor"


class OutOfScope(Exception):
    """A supervisor asked for another agency's red flags or case file."""


def may_see_flags(user: Any) -> bool:
    """Controllers, and supervisors of an agency (their own agency only)."""
    role = getattr(user, "role", "")
    return role == CONTROL_ROLE or (
        role == SUPERVISOR_ROLE and getattr(user, "agency_id", None) is not None)


def scoped_agency(user: Any, agency_id: int | None) -> int | None:
    """The agency filter a user may apply: a controller's own choice; a supervisor's own
    agency (OutOfScope when they asked for another)."""
    if getattr(user, "role", "") == CONTROL_ROLE:
        return agency_id
    own = getattr(user, "agency_id", None)
    if own is None or (agency_id is not None and agency_id != own):
        raise OutOfScope
    return int(own)


def subject_history(country: Country, kind: str, subject_id: int) -> QuerySet[FlagResult]:
    """Every stored raised flag of one subject, newest run first."""
    return FlagResult.objects.filter(
        run__country=country, subject_kind=kind, subject_id=subject_id,
    ).select_related("run").order_by("-run__created_at", "-run__pk", "-score", "pk")


def may_see_subject(user: Any, country: Country, kind: str, subject_id: int) -> bool:
    """A controller every subject; a supervisor the subjects their agency's flags name."""
    if getattr(user, "role", "") == CONTROL_ROLE:
        return True
    own = getattr(user, "agency_id", None)
    return own is not None and subject_history(country, kind, subject_id).filter(
        agency_id=own).exists()


def case_file(country: Country, kind: str, subject_id: int) -> CaseFile | None:
    """The case file of one subject, or None while nobody wrote in it."""
    return CaseFile.objects.filter(country=country, subject_kind=kind,
                                   subject_id=subject_id).select_related(
        "decided_by").first()


def subject_labels(keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """How the control body's pages name subjects: staff by username, units by agency
    code, centres by code; citizen accounts by number only (no personal data)."""
    ids: dict[str, set[int]] = {}
    for kind, pk in keys:
        ids.setdefault(kind, set()).add(pk)
    names: dict[tuple[str, int], str] = {}
    staff = ids.get("officer", set()) | ids.get("operator", set())
    usernames = dict(User.objects.filter(pk__in=staff).values_list("pk", "username"))
    units = dict(Agency.objects.filter(pk__in=ids.get("unit", set())).values_list("pk", "code"))
    centres = dict(Centre.objects.filter(pk__in=ids.get("centre", set())).values_list(
        "pk", "code"))
    for kind, pk in keys:
        if kind in ("officer", "operator"):
            names[(kind, pk)] = usernames.get(pk, f"#{pk}")
        elif kind == "unit":
            names[(kind, pk)] = units.get(pk, f"#{pk}")
        elif kind == "centre":
            names[(kind, pk)] = centres.get(pk, f"#{pk}")
        else:
            names[(kind, pk)] = f"#{pk}"
    return names


def evidence_records(evidence: dict[str, list[int]], cap: int = 500
                     ) -> dict[str, list[dict[str, Any]]]:
    """The records behind a flag by their numbers (applications, complaints), ticket
    numbers with centre and day, and ids of ratings and appointments; at most `cap` per
    kind of record."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, ids in evidence.items():
        wanted = sorted(set(ids))[:cap]
        if name == "applications":
            numbers = dict(Application.objects.filter(pk__in=wanted).values_list("pk", "number"))
            out[name] = [{"id": pk, "label": numbers[pk], "number": numbers[pk]}
                         for pk in wanted if pk in numbers]
        elif name == "complaints":
            numbers = dict(Complaint.objects.filter(pk__in=wanted).values_list("pk", "number"))
            out[name] = [{"id": pk, "label": numbers[pk]} for pk in wanted if pk in numbers]
        elif name == "tickets":
            tickets = {pk: f"{centre} {day:%Y-%m-%d} {number}" for pk, centre, day, number in
                       Ticket.objects.filter(pk__in=wanted).values_list(
                           "pk", "centre__code", "day", "number")}
            out[name] = [{"id": pk, "label": tickets[pk]} for pk in wanted if pk in tickets]
        else:
            out[name] = [{"id": pk, "label": f"#{pk}"} for pk in wanted]
    return out
