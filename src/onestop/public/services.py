"""The refresh of the public site's snapshots: everything the public pages show, computed
once by `onestop public refresh` and stored as aggregates (PublicSnapshot), so that no page
runs a heavy query; and the daily record of the audit chain's head (PublishedHead).

What each block holds (the period P is the latest with a stored agency assessment, else
the current quarter):

- "national": applications submitted, finished, on time, refused, ratings and digital
  take-up in P and in up to `TREND_PERIODS` earlier periods of the same kind, and the
  channel mix of P;
- "ranking:agency", "ranking:region": the latest stored assessment run of P for the scope,
  as stored (score, band, n, every indicator's value and n; unranked units flagged);
- "agency:<code>": its assessment result, its trend, its services' volumes, and its
  violations and complaints (small counts suppressed);
- "service:<code>": its standard beside its actual performance in P (deadline compliance,
  median and 90th-percentile processing time, refusal rate, satisfaction per criterion,
  channel mix) and its result in the latest service run of P;
- "centre:<code>": waits of P (centres.stats.period_stats), and the live queue and
  today's waits at the time of the refresh (the pages read these live);
- "methodology": the methodology of the agency run (version, indicators, weights, bands);
- "control": violations and complaints per agency and region.

Counts from 1 to `SUPPRESS_BELOW - 1` of violations, complaints and ratings are replaced
by None (shown "fewer than 10"), and so are the figures computed from them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from onestop.applications.models import Application
from onestop.audit import selectors as audit_selectors
from onestop.catalogue.models import Agency, Country, Region, Service
from onestop.catalogue.selectors import local_today
from onestop.centres import stats
from onestop.centres.models import Centre
from onestop.control.models import Violation
from onestop.feedback.models import Complaint, Rating
from onestop.public.models import PublicSnapshot, PublishedHead
from onestop.quality import selectors as quality
from onestop.quality.methodology import Methodology, parse
from onestop.quality.models import AssessmentRun
from onestop.quality.models import Methodology as StoredMethodology
from onestop.quality.services import AssessmentError, period_bounds

SUPPRESS_BELOW = 10
TREND_PERIODS = 8
DEFAULT_FINISHED = ("issued", "refused")
DEFAULT_DIGITAL = ("portal", "api", "proactive")
DEFAULT_SATISFIED = 4


class RefreshError(ValueError):
    """A refresh that cannot be done; the message says why."""


def suppress(count: int | None) -> int | None:
    """A count as published: None when it is from 1 to SUPPRESS_BELOW - 1."""
    if count is None or count == 0 or count >= SUPPRESS_BELOW:
        return count
    return None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


# --------------------------------------------------------------------------- periods


def previous_period(period: str) -> str:
    """The period of the same kind just before `period`."""
    kind = quality.period_kind(period)
    year = int(period[:4])
    if kind == "Y":
        return str(year - 1)
    number = int(period[6:] if kind in ("Q", "H") else period[5:])
    size = {"Q": 4, "H": 2, "M": 12}[kind]
    if number == 1:
        year, number = year - 1, size
    else:
        number -= 1
    if kind == "M":
        return f"{year}-{number:02d}"
    return f"{year}-{kind}{number}"


def current_quarter(country: Country, now: dt.datetime | None = None) -> str:
    today = local_today(country, now)
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def public_period(country: Country, now: dt.datetime | None = None) -> str:
    """The latest period with a stored agency assessment, else the current quarter."""
    periods = quality.stored_periods(country, "agency")
    return periods[0] if periods else current_quarter(country, now)


@dataclass(frozen=True)
class Window:
    period: str
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, country: Country, period: str) -> Window:
        try:
            start, end = period_bounds(period, ZoneInfo(country.time_zone))
        except AssessmentError as exc:
            raise RefreshError(str(exc)) from None
        return cls(period, start, end)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rules:
    """What counts as finished, digital and satisfied: the methodology's when there is one."""

    finished: tuple[str, ...]
    digital: tuple[str, ...]
    satisfied_at_or_above: int
    criteria: tuple[str, ...]


def _methodology(country: Country, run: AssessmentRun | None) -> Methodology | None:
    if run is not None:
        return quality.methodology_of(run)
    stored = (StoredMethodology.objects.filter(country=country)
              .order_by("-loaded_at", "-pk").first())
    return parse(stored.definition) if stored else None


def _rules(m: Methodology | None) -> Rules:
    if m is None:
        return Rules(DEFAULT_FINISHED, DEFAULT_DIGITAL, DEFAULT_SATISFIED, ())
    return Rules(tuple(m.finished_outcomes), tuple(m.digital_channels),
                 m.satisfied_at_or_above, tuple(m.criteria))


# --------------------------------------------------------------------------- figures


def _application_figures(qs_submitted: Any, qs_finished: Any,
                         digital_channels: Iterable[str]) -> dict[str, Any]:
    submitted = qs_submitted.count()
    digital = qs_submitted.filter(channel__in=list(digital_channels)).count()
    finished = qs_finished.annotate(
        finished_at=Coalesce("clock_stopped_at", "completed_at")
    ).aggregate(
        finished=Count("pk"),
        late=Count("pk", filter=Q(finished_at__gt=F("deadline_at"))),
        refused=Count("pk", filter=Q(outcome="refused")),
    )
    return {
        "submitted": submitted, "digital": digital,
        "digital_take_up": _share(digital, submitted),
        "finished": finished["finished"], "on_time": finished["finished"] - finished["late"],
        "timeliness": _share(finished["finished"] - finished["late"], finished["finished"]),
        "refused": finished["refused"],
        "refusal_rate": _share(finished["refused"], finished["finished"]),
    }


def _windowed(country: Country, w: Window, rules: Rules, **filters: Any) -> dict[str, Any]:
    base = Application.objects.filter(country=country, **filters)
    return _application_figures(
        base.filter(submitted_at__gte=w.start, submitted_at__lt=w.end),
        base.filter(outcome__in=list(rules.finished), completed_at__gte=w.start,
                    completed_at__lt=w.end),
        rules.digital,
    )


def _rating_figures(ratings: Any, rules: Rules) -> dict[str, Any]:
    """The mean rating (1 to 5) and per criterion the mean score, the share satisfied and
    the n; every figure None when fewer than SUPPRESS_BELOW ratings are behind it."""
    count = 0
    means: list[float] = []
    per: dict[str, list[int]] = defaultdict(list)
    for mean, scores in ratings.values_list("mean", "scores").iterator(chunk_size=5000):
        count += 1
        means.append(float(mean))
        if isinstance(scores, dict):
            for criterion in rules.criteria:
                value = scores.get(criterion)
                if isinstance(value, int) and not isinstance(value, bool):
                    per[criterion].append(value)
    shown = suppress(count)
    criteria = []
    for criterion in rules.criteria:
        values = per.get(criterion, [])
        n = suppress(len(values))
        visible = bool(values) and n is not None
        criteria.append({
            "criterion": criterion, "n": n,
            "mean": math.fsum(values) / len(values) if visible else None,
            "satisfied": (sum(1 for v in values if v >= rules.satisfied_at_or_above)
                          / len(values)) if visible else None,
        })
    return {
        "ratings": shown,
        "satisfaction": (math.fsum(means) / count) if count and shown is not None else None,
        "criteria": criteria,
    }


def _channels(country: Country, w: Window, **filters: Any) -> dict[str, int]:
    rows = (Application.objects.filter(country=country, submitted_at__gte=w.start,
                                       submitted_at__lt=w.end, **filters)
            .values("channel").annotate(n=Count("pk")).order_by("channel"))
    return {row["channel"]: row["n"] for row in rows}


def national(country: Country, w: Window, rules: Rules) -> dict[str, Any]:
    periods = [w.period]
    while len(periods) < TREND_PERIODS:
        periods.append(previous_period(periods[-1]))
    trend = []
    for period in reversed(periods):
        pw = Window.of(country, period)
        figures = _windowed(country, pw, rules)
        figures.update(_rating_figures(
            Rating.objects.filter(country=country, created_at__gte=pw.start,
                                  created_at__lt=pw.end), rules))
        figures.pop("criteria")
        figures["period"] = period
        trend.append(figures)
    while len(trend) > 1 and not trend[0]["submitted"] and not trend[0]["finished"]:
        trend.pop(0)  # periods before the first application say nothing
    return {"figures": trend[-1], "trend": trend, "channels": _channels(country, w)}


# --------------------------------------------------------------------------- rankings


def _run_info(run: AssessmentRun) -> dict[str, Any]:
    return {"id": run.pk, "period": run.period, "scope": run.scope,
            "created_at": _iso(run.created_at), "as_of": _iso(run.as_of),
            "methodology": run.methodology.version, "example": run.methodology.example,
            "results_sha256": run.results_sha256}


def ranking(run: AssessmentRun | None) -> dict[str, Any]:
    """The run's results in ranking order, as stored, with the unit names by language."""
    if run is None:
        return {"run": None, "indicators": [], "rows": [], "min_cases": None}
    m = quality.methodology_of(run)
    results = quality.ranking(run)
    names = quality.unit_names(run.scope, [r.unit_id for r in results])
    rows = [{
        "code": r.unit_code, "name": names.get(r.unit_id) or {}, "rank": r.rank,
        "ranked": r.ranked, "score": r.score, "band": r.band, "n": r.n,
        "penalty": r.penalty,
        "values": {i.code: {"value": (r.values.get(i.code) or {}).get("value"),
                            "n": (r.values.get(i.code) or {}).get("n", 0)}
                   for i in m.indicators},
    } for r in results]
    return {
        "run": _run_info(run),
        "indicators": [{"code": i.code, "measure": i.measure, "weight": i.weight}
                       for i in m.indicators],
        "bands": [{"code": b.code, "above": b.above, "name": dict(b.name)} for b in m.bands],
        "min_cases": m.min_cases, "rows": rows,
    }


def _trend(run: AssessmentRun | None, code: str) -> list[dict[str, Any]]:
    if run is None:
        return []
    return [{
        "period": p.period, "version": p.version,
        "score": p.result.score if p.result else None,
        "band": p.result.band if p.result else "",
        "rank": p.result.rank if p.result and p.result.ranked else None,
        "ranked": bool(p.result and p.result.ranked),
        "n": p.result.n if p.result else None,
    } for p in quality.trend(run, code)]


def methodology(m: Methodology | None, run: AssessmentRun | None) -> dict[str, Any]:
    if m is None:
        return {"version": None}
    return {
        "version": m.version, "example": m.example, "title": dict(m.title),
        "indicators": [{"code": i.code, "measure": i.measure, "weight": i.weight}
                       for i in m.indicators],
        "bands": [{"code": b.code, "above": b.above, "name": dict(b.name)} for b in m.bands],
        "min_cases": m.min_cases, "cases": m.cases,
        "penalty_points": m.penalty_points, "penalty_cap": m.penalty_cap,
        "satisfied_at_or_above": m.satisfied_at_or_above, "criteria": list(m.criteria),
        "digital_channels": list(m.digital_channels),
        "finished_outcomes": list(m.finished_outcomes),
        "sha256": m.sha256, "run": _run_info(run) if run else None,
    }


# --------------------------------------------------------------------------- control


def _violations_by(country: Country, w: Window, field: Any) -> dict[int | None, dict[str, int]]:
    rows = (Violation.objects.filter(country=country, found_at__gte=w.start,
                                     found_at__lt=w.end)
            .annotate(unit=field).values("unit")
            .annotate(n=Count("pk"), own=Count("pk", filter=Q(found_by="self"))))
    return {r["unit"]: {"violations": r["n"], "self": r["own"]} for r in rows}


def _complaints_by(country: Country, w: Window, field: Any,
                   upheld: Iterable[str]) -> dict[int | None, dict[str, int]]:
    rows = (Complaint.objects.filter(country=country, registered_at__gte=w.start,
                                     registered_at__lt=w.end)
            .annotate(unit=field).values("unit")
            .annotate(n=Count("pk"), up=Count("pk", filter=Q(decision__in=list(upheld)))))
    return {r["unit"]: {"complaints": r["n"], "upheld": r["up"]} for r in rows}


def _control_row(v: dict[str, int] | None, k: dict[str, int] | None) -> dict[str, Any]:
    v, k = v or {}, k or {}
    return {
        "violations": suppress(v.get("violations", 0)),
        "violations_self": suppress(v.get("self", 0)),
        "complaints": suppress(k.get("complaints", 0)),
        "complaints_upheld": suppress(k.get("upheld", 0)),
    }


def control(country: Country, w: Window, upheld: Iterable[str]) -> dict[str, Any]:
    upheld = list(upheld)
    region = Coalesce("application__region_id", "centre__region_id")
    v_agency = _violations_by(country, w, F("agency_id"))
    k_agency = _complaints_by(country, w, Coalesce("agency_id", "application__agency_id"),
                              upheld)
    v_region = _violations_by(country, w, region)
    k_region = _complaints_by(country, w, region, upheld)
    agencies = [{"code": a.code, "name": a.name, **_control_row(v_agency.get(a.pk),
                                                                k_agency.get(a.pk))}
                for a in Agency.objects.filter(country=country).order_by("code")]
    regions = [{"code": r.code, "name": r.name, **_control_row(v_region.get(r.pk),
                                                               k_region.get(r.pk))}
               for r in Region.objects.filter(country=country).order_by("code")]

    def total(rows: dict[int | None, dict[str, int]], key: str) -> int:
        return sum(row[key] for row in rows.values())

    return {
        "agencies": agencies, "regions": regions,
        "total": {
            "violations": suppress(total(v_agency, "violations")),
            "violations_self": suppress(total(v_agency, "self")),
            "complaints": suppress(total(k_agency, "complaints")),
            "complaints_upheld": suppress(total(k_agency, "upheld")),
        },
    }


# --------------------------------------------------------------------------- units


def _standard(service: Service, on: dt.date) -> dict[str, Any] | None:
    versions = sorted(service.versions.all(), key=lambda v: v.valid_from, reverse=True)
    standard = next((v for v in versions if v.valid_from <= on), versions[-1] if versions
                    else None)
    if standard is None:
        return None
    return {
        "valid_from": standard.valid_from.isoformat(), "name": standard.name,
        "deadline_value": standard.deadline_value, "deadline_unit": standard.deadline_unit,
        "max_wait_minutes": standard.max_wait_minutes,
        "max_service_minutes": standard.max_service_minutes,
        "fee_amount": str(standard.fee_amount), "channels": list(standard.channels),
    }


def _processing(country: Country, w: Window, rules: Rules, service: Service) -> dict[str, Any]:
    seconds = [
        (completed - submitted).total_seconds()
        for submitted, completed in Application.objects.filter(
            country=country, service=service, outcome__in=list(rules.finished),
            completed_at__gte=w.start, completed_at__lt=w.end,
        ).values_list("submitted_at", "completed_at").iterator(chunk_size=5000)
        if completed is not None
    ]
    return {"median_seconds": stats.percentile(seconds, 0.5),
            "p90_seconds": stats.percentile(seconds, 0.9), "n": len(seconds)}


def service_block(country: Country, w: Window, rules: Rules, service: Service,
                  run: AssessmentRun | None, ranked: dict[str, Any],
                  names: dict[str, Any]) -> dict[str, Any]:
    end_day = (w.end - dt.timedelta(microseconds=1)).astimezone(ZoneInfo(country.time_zone))
    actual = _windowed(country, w, rules, service=service)
    actual.update(_processing(country, w, rules, service))
    actual.update(_rating_figures(
        Rating.objects.filter(country=country, application__service=service,
                              created_at__gte=w.start, created_at__lt=w.end), rules))
    standard = _standard(service, end_day.date())
    return {
        "code": service.code, "name": names.get(service.code) or {},
        "agency": {"code": service.provider.code, "name": service.provider.name},
        "standard": standard, "actual": actual, "channels": _channels(country, w,
                                                                      service=service),
        "result": _results_by_code(ranked).get(service.code),
        "run": _run_info(run) if run else None,
        "indicators": ranked["indicators"], "bands": ranked.get("bands", []),
        "min_cases": ranked["min_cases"],
        "trend": _trend(run, service.code),
    }


def centre_block(centre: Centre, w: Window, now: dt.datetime) -> dict[str, Any]:
    zone = ZoneInfo(centre.country.time_zone)
    first = w.start.astimezone(zone).date()
    last = min((w.end - dt.timedelta(microseconds=1)).astimezone(zone).date(),
               local_today(centre.country, now))
    period = summary(stats.period_stats(centre, first, last)) if last >= first else None
    return {
        "code": centre.code, "name": centre.name, "region": {
            "code": centre.region.code, "name": centre.region.name},
        "period": period, "first_day": first.isoformat(), "last_day": last.isoformat(),
        **live_block(centre, now),
    }


def live_block(centre: Centre, now: dt.datetime) -> dict[str, Any]:
    """The live queue and today's waits of a centre (cheap: a few queries over one day)."""
    live = stats.centre_live(centre, now)
    return {
        "live_at": _iso(now),
        "live": {
            "waiting": live.waiting, "expected_wait_seconds": live.expected_wait_seconds,
            "groups": [{"code": g.group.code, "name": g.group.name, "waiting": g.waiting,
                        "open_counters": g.open_counters,
                        "expected_wait_seconds": g.expected_wait_seconds}
                       for g in live.groups],
        },
        "today": summary(stats.today_stats(centre, now)),
    }


def summary(s: stats.PeriodStats) -> dict[str, Any]:
    return {
        "tickets": s.total.tickets, "served": s.total.served,
        "avg_wait_seconds": s.total.avg_wait_seconds,
        "p90_wait_seconds": s.total.p90_wait_seconds,
        "within_standard": s.total.within_standard_share,
        "waits": len(s.total.waits),
        "groups": [{"code": g.group.code, "name": g.group.name,
                    "max_wait_minutes": g.max_wait_minutes, "tickets": g.summary.tickets,
                    "avg_wait_seconds": g.summary.avg_wait_seconds,
                    "within_standard": g.summary.within_standard_share}
                   for g in s.groups],
    }


# --------------------------------------------------------------------------- refresh


def record_head(now: dt.datetime | None = None) -> PublishedHead:
    """The audit chain's head of today (UTC): recorded at the first refresh of the day and
    kept as it was (a later refresh that day does not move it)."""
    now = now or timezone.now()
    head = audit_selectors.head()
    row, _ = PublishedHead.objects.get_or_create(
        day=now.astimezone(dt.UTC).date(),
        defaults={"sequence": head.sequence, "hash": head.hash, "recorded_at": now},
    )
    return row


def _results_by_code(block: dict[str, Any]) -> dict[str, Any]:
    return {row["code"]: row for row in block["rows"]}


def refresh(country: Country, *, period: str | None = None,
            now: dt.datetime | None = None) -> dict[str, Any]:
    """Compute and store every snapshot of the country's public site for `period` (by
    default the latest with a stored agency assessment); return the index block."""
    now = now or timezone.now()
    period = period or public_period(country, now)
    if not quality.valid_period(period):
        raise RefreshError(f"period {period!r}: use 2026, 2026-H2, 2026-Q3 or 2026-07")
    w = Window.of(country, period)
    runs = {scope: quality.latest_run(country, period, scope)
            for scope in ("agency", "region", "service")}
    m = _methodology(country, runs["agency"])
    rules = _rules(m)
    blocks: dict[str, Any] = {}
    blocks["national"] = national(country, w, rules)
    for scope in ("agency", "region"):
        blocks[f"ranking:{scope}"] = ranking(runs[scope])
    blocks["methodology"] = methodology(m, runs["agency"])
    upheld = m.upheld_decisions if m else ("upheld",)
    blocks["control"] = control(country, w, upheld)
    control_by_agency = {row["code"]: row for row in blocks["control"]["agencies"]}

    agency_results = _results_by_code(blocks["ranking:agency"])
    service_ranking = ranking(runs["service"])
    services = list(Service.objects.filter(country=country).select_related("provider")
                    .prefetch_related("versions").order_by("code"))
    service_names = {s.code: (sorted(s.versions.all(), key=lambda v: v.valid_from)[-1].name
                              if s.versions.all() else {}) for s in services}
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for service in services:
        block = service_block(country, w, rules, service, runs["service"], service_ranking,
                              service_names)
        blocks[f"service:{service.code}"] = block
        by_agency[service.provider.code].append({
            "code": service.code, "name": block["name"],
            "submitted": block["actual"]["submitted"],
            "finished": block["actual"]["finished"],
            "timeliness": block["actual"]["timeliness"],
        })
    for agency in Agency.objects.filter(country=country).order_by("code"):
        blocks[f"agency:{agency.code}"] = {
            "code": agency.code, "name": agency.name,
            "result": agency_results.get(agency.code),
            "trend": _trend(runs["agency"], agency.code),
            "services": by_agency.get(agency.code, []),
            "control": control_by_agency.get(agency.code),
        }
    centres = list(Centre.objects.filter(country=country).select_related("region", "country")
                   .order_by("code"))
    for centre in centres:
        blocks[f"centre:{centre.code}"] = centre_block(centre, w, now)

    head = record_head(now)
    index = {
        "period": period, "taken_at": _iso(now),
        "window": [_iso(w.start), _iso(w.end)],
        "agencies": sorted({k.split(":", 1)[1] for k in blocks if k.startswith("agency:")}),
        "services": [s.code for s in services],
        "centres": [{"code": c.code, "name": c.name, "region": c.region.code,
                     "within_standard": (blocks[f"centre:{c.code}"]["period"] or {})
                     .get("within_standard"),
                     "tickets": (blocks[f"centre:{c.code}"]["period"] or {}).get("tickets")}
                    for c in centres],
        "regions": [r.code for r in Region.objects.filter(country=country).order_by("code")],
        "head": {"sequence": head.sequence, "hash": head.hash},
    }
    with transaction.atomic():
        PublicSnapshot.objects.filter(country=country, period=period).exclude(
            key__in=list(blocks)).delete()
        for key, data in blocks.items():
            PublicSnapshot.objects.update_or_create(
                country=country, key=key, period=period,
                defaults={"data": data, "taken_at": now})
        PublicSnapshot.objects.update_or_create(
            country=country, key="index", period="",
            defaults={"data": index, "taken_at": now})
    return index


def refresh_counts(index: dict[str, Any]) -> Counter[str]:
    """How many agency, service and centre pages a refresh made (for the command)."""
    return Counter({"agencies": len(index["agencies"]), "services": len(index["services"]),
                    "centres": len(index["centres"])})
