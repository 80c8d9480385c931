"""Write use cases of the red flags: read the pack's configuration, compute and store a
run, and measure the flags against a ground truth (docs/redflags.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from django.db import connection, transaction
from django.utils import timezone

from onestop.accounts.models import User
from onestop.audit.services import record
from onestop.catalogue.models import Agency, Country
from onestop.catalogue.packs import SHIPPED_PACKS
from onestop.centres.models import Centre
from onestop.integrity import redflags, redflags_sources
from onestop.integrity.flags_config import FLAG_CODES, FlagsConfig, FlagsConfigError, parse
from onestop.integrity.models import CaseFile, CaseNote, CaseOutcome, FlagResult, FlagRun
from onestop.quality.services import AssessmentError, period_bounds

CONFIG_FILE = "integrity.yaml"


class FlagsError(Exception):
    """Red flags that cannot be computed as asked; the message says why."""


def read_config(country: Country, pack: Path | None = None) -> FlagsConfig:
    """The pack's integrity.yaml (the shipped pack of the country unless `pack` names a
    folder), checked; the defaults when the pack has none."""
    folder = Path(pack) if pack else SHIPPED_PACKS / country.code
    path = folder / CONFIG_FILE
    if not path.exists():
        return parse({})
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlagsError(f"{path}: not valid YAML ({exc})") from None
    if document is not None and not isinstance(document, dict):
        raise FlagsError(f"{path}: a mapping of settings")
    try:
        return parse(document)
    except FlagsConfigError as exc:
        raise FlagsError(f"{path}: {exc}") from None


def _window(country: Country, period: str) -> tuple[dt.datetime, dt.datetime, redflags.Window]:
    zone = ZoneInfo(country.time_zone)
    try:
        starts, ends = period_bounds(period, zone)
    except AssessmentError as exc:
        raise FlagsError(str(exc)) from None
    offset = starts.astimezone(zone).utcoffset() or dt.timedelta(0)
    window = redflags.Window(
        country_id=country.pk, start=starts.replace(tzinfo=None), end=ends.replace(tzinfo=None),
        utc_offset_hours=offset.total_seconds() / 3600,
    )
    return starts, ends, window


def compute(*, country: Country, period: str, config: FlagsConfig | None = None,
            lake: Path | None = None, flags: list[str] | None = None
            ) -> list[redflags.Raised]:
    """Every raised flag of the period, on the live database or the lake (not stored)."""
    config = config or read_config(country)
    _, _, window = _window(country, period)
    unknown = sorted(set(flags or []) - set(FLAG_CODES))
    if unknown:
        raise FlagsError(f"unknown flags: {', '.join(unknown)} (known: {', '.join(FLAG_CODES)})")
    try:
        tables = (redflags_sources.lake_flag_tables(lake) if lake is not None
                  else redflags_sources.live_flag_tables())
    except redflags_sources.FlagSourceError as exc:
        raise FlagsError(str(exc)) from None
    return redflags.compute(tables, window, config, flags)


def _scopes(raised: list[redflags.Raised]) -> dict[tuple[str, int], tuple[int | None, int | None]]:
    """(agency, region) of every subject, for filters and the supervisors' scope."""
    ids: dict[str, set[int]] = {}
    for item in raised:
        ids.setdefault(item.kind, set()).add(item.subject)
    out: dict[tuple[str, int], tuple[int | None, int | None]] = {}
    centres = dict(Centre.objects.values_list("pk", "region_id"))
    agencies = dict(Agency.objects.values_list("pk", "region_id"))
    staff = ids.get("officer", set()) | ids.get("operator", set())
    for pk, agency, centre in User.objects.filter(pk__in=staff).values_list(
            "pk", "agency_id", "centre_id"):
        region = centres.get(centre) if centre else agencies.get(agency) if agency else None
        for kind in ("officer", "operator"):
            out[(kind, pk)] = (agency, region)
    for pk in ids.get("unit", set()):
        out[("unit", pk)] = (pk, agencies.get(pk))
    for pk in ids.get("centre", set()):
        out[("centre", pk)] = (None, centres.get(pk))
    return out


@transaction.atomic
def run_flags(*, country: Country, period: str, lake: Path | None = None,
              pack: Path | None = None, now: dt.datetime | None = None) -> FlagRun:
    """Compute and store every raised flag of the period."""
    config = read_config(country, pack)
    starts, ends, _ = _window(country, period)
    raised = compute(country=country, period=period, config=config, lake=lake)
    run = FlagRun.objects.create(
        country=country, period=period.strip(), starts_at=starts, ends_at=ends,
        config_version=config.version, config_sha256=config.sha256,
        source=f"lake:{Path(lake).resolve()}" if lake is not None else f"live:{connection.vendor}",
        created_at=now or timezone.now(),
    )
    scopes = _scopes(raised)
    FlagResult.objects.bulk_create(
        FlagResult(
            run=run, subject_kind=item.kind, subject_id=item.subject, flag=item.flag,
            service_id=item.service or None, agency_id=scopes.get((item.kind, item.subject),
                                                                  (None, None))[0],
            region_id=scopes.get((item.kind, item.subject), (None, None))[1],
            value=item.value, z=item.z, n=item.n, hits=item.k, peers_n=item.peers,
            score=item.score, evidence=item.evidence,
        )
        for item in raised
    )
    return run


def evaluate(truth: dict[str, Any], raised: list[redflags.Raised]) -> dict[str, dict[str, Any]]:
    """Precision and recall per flag: the subjects the truth names against the subjects
    raised (of the kinds the truth names for that flag), and the share of the truth's
    evidence records that the raised flags' evidence names. Subjects the truth lists as
    `known` (outliers the demo planted itself) count neither way; how many of them were
    raised is reported."""
    flags = truth.get("flags")
    if not isinstance(flags, dict):
        raise FlagsError("the truth file has no \"flags\" mapping")
    report: dict[str, dict[str, Any]] = {}
    for code in FLAG_CODES:
        entries = flags.get(code) or []
        expected = {(str(e["kind"]), int(e["id"])) for e in entries}
        kinds = {kind for kind, _ in expected}
        known = {(str(e["kind"]), int(e["id"]))
                 for e in (truth.get("known") or {}).get(code, [])} - expected
        found = {(r.kind, r.subject): r for r in raised if r.flag == code and r.kind in kinds
                 and (r.kind, r.subject) not in known}
        known_raised = sum(1 for r in raised if r.flag == code and (r.kind, r.subject) in known)
        hits = expected & set(found)
        wanted = named = 0
        for entry in entries:
            key = (str(entry["kind"]), int(entry["id"]))
            for name, ids in entry.get("evidence", {}).items():
                wanted += len(ids)
                if key in found:
                    named += len(set(ids) & set(found[key].evidence.get(name, [])))
        report[code] = {
            "expected": len(expected), "raised": len(found), "true_positives": len(hits),
            "precision": round(len(hits) / len(found), 4) if found else (
                1.0 if not expected else 0.0),
            "recall": round(len(hits) / len(expected), 4) if expected else 1.0,
            "evidence_recall": round(named / wanted, 4) if wanted else 1.0,
            "false_positives": sorted(f"{k}:{s}" for k, s in set(found) - expected),
            "known": len(known), "known_raised": known_raised,
        }
    return report


def record_view(*, user: User, run: FlagRun, what: str, filters: dict[str, Any],
                shown: int) -> None:
    """Audit one view or export of named red flags (who, which run, which filters)."""
    record(actor_username=user.username, actor_role=user.role,
           action=f"integrity.{what}", subject_type="flag_run", subject_id=str(run.pk),
           data={"period": run.period, "filters": {k: v for k, v in filters.items()
                                                   if v is not None}, "shown": shown})


# --------------------------------------------------------------------------- case files

MAX_CASE_TEXT = 4000


class CaseError(Exception):
    """A note or an outcome that cannot be recorded; the message says why."""


def record_case_event(*, user: User, country: Country, kind: str, subject_id: int,
                      what: str, data: dict[str, Any] | None = None) -> None:
    """Audit one view of, or change to, a subject's case file."""
    record(actor_username=user.username, actor_role=user.role,
           action=f"integrity.{what}", subject_type=f"flag_subject:{kind}",
           subject_id=f"{country.code}:{subject_id}", data=data or {})


def _controller(user: User) -> None:
    if user.role != "controller":
        raise CaseError("only controllers write in case files")


def _case(country: Country, kind: str, subject_id: int) -> CaseFile:
    case, _ = CaseFile.objects.select_for_update().get_or_create(
        country=country, subject_kind=kind, subject_id=subject_id)
    return case


@transaction.atomic
def add_case_note(*, user: User, country: Country, kind: str, subject_id: int,
                  text: str) -> CaseNote:
    """A controller's note in the subject's case file (audited)."""
    _controller(user)
    text = text.strip()
    if not text or len(text) > MAX_CASE_TEXT:
        raise CaseError(f"a note is 1 to {MAX_CASE_TEXT} characters")
    case = _case(country, kind, subject_id)
    note = CaseNote.objects.create(case=case, author=user, text=text)
    record_case_event(user=user, country=country, kind=kind, subject_id=subject_id,
                      what="case_note_added", data={"note": note.pk, "case": case.pk})
    return note


@transaction.atomic
def set_case_outcome(*, user: User, country: Country, kind: str, subject_id: int,
                     outcome: str, reason: str, now: dt.datetime | None = None) -> CaseFile:
    """A controller's outcome of the case (no issue found, inspection ordered, referred)
    with the reason (audited; a later outcome replaces it, the audit chain keeps all)."""
    _controller(user)
    reason = reason.strip()
    if outcome not in CaseOutcome.values or not outcome:
        raise CaseError(f"unknown outcome {outcome!r}")
    if not reason or len(reason) > MAX_CASE_TEXT:
        raise CaseError(f"a reason is 1 to {MAX_CASE_TEXT} characters")
    case = _case(country, kind, subject_id)
    previous = case.outcome
    case.outcome, case.outcome_reason = outcome, reason
    case.decided_by, case.decided_at = user, now or timezone.now()
    case.save(update_fields=["outcome", "outcome_reason", "decided_by", "decided_at"])
    record_case_event(user=user, country=country, kind=kind, subject_id=subject_id,
                      what="case_outcome_set",
                      data={"case": case.pk, "outcome": outcome, "previous": previous,
                            "reason_sha256": hashlib.sha256(reason.encode()).hexdigest()})
    return case
