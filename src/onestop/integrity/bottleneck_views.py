"""Pages of the bottleneck analysis and the optimisation report, for supervisors (their
own agency's services) and controllers, analysts and admins (every agency): choose a
service and a period and see the variants, dwell time per stage (an SVG bar chart and
its table), rework loops, inter-agency waits and the use of the deadline; an agency's
optimisation report as a page and as PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy

from onestop.catalogue.models import Country, ServiceStandard
from onestop.catalogue.selectors import local_today
from onestop.core import pages
from onestop.core.context import current_country
from onestop.core.pages import error_page
from onestop.core.text import localize
from onestop.integrity import bottleneck_services as services
from onestop.integrity import optimisation
from onestop.integrity.bottleneck_services import ServiceAnalysis
from onestop.integrity.optimisation_pdf import render_pdf
from onestop.integrity.optimisation_text import KIND_NAMES, change_evidence, change_title

View = Callable[..., HttpResponseBase]
PERIOD_HELP = gettext_lazy("A year (2026), half (2026-H2), quarter (2026-Q3) or month "
                           "(2026-07).")
PERIOD_ERROR = gettext_lazy("Write the period as 2026, 2026-H2, 2026-Q3 or 2026-07.")
CHART_LEFT = 210
CHART_BAR = 340
ROW_HEIGHT = 22



readers_only = pages.readers_only(services.may_see_bottlenecks, gettext_lazy(
    "Bottlenecks are open to supervisors, controllers, analysts and administrators only."))


def _text(country: Country) -> Callable[[dict[str, str] | None], str]:
    language = get_language() or "en"
    return lambda value: localize(value, language, country.languages)


class BottleneckForm(forms.Form):
    service = forms.ChoiceField(label=gettext_lazy("Service"))
    period = forms.CharField(label=gettext_lazy("Period"), max_length=7, help_text=PERIOD_HELP,
                             validators=[RegexValidator(services.PERIOD_PATTERN,
                                                        PERIOD_ERROR)])

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["service"]).choices = choices


def _mark_invalid(form: forms.Form) -> None:
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}-errors"


def dwell_chart(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """A horizontal bar chart of the median stay per stage in working days, with a tick
    at the 90th percentile."""
    top = max([s["p90_wd"] or 0.0 for s in stages] + [s["median_wd"] or 0.0 for s in stages]
              + [0.01])
    scale = CHART_BAR / top
    bars = []
    for i, s in enumerate(stages):
        median, p90 = s["median_wd"] or 0.0, s["p90_wd"] or 0.0
        y = 10 + i * ROW_HEIGHT
        bars.append({"y": y, "text_y": y + 14, "width": median * scale, "label": s["name"],
                     "median": s["median_wd"], "p90": s["p90_wd"], "p90_x": CHART_LEFT
                     + p90 * scale, "value_x": CHART_LEFT + max(median, p90) * scale + 6,
                     "slowest": s["slowest"]})
    height = 20 + len(stages) * ROW_HEIGHT + 16
    ticks = [{"value": round(top * f, 2), "x": CHART_LEFT + CHART_BAR * f}
             for f in (0, 0.5, 1)]
    return {"bars": bars, "left": CHART_LEFT, "width": CHART_LEFT + CHART_BAR + 80,
            "height": height, "axis_y": height - 16, "ticks": ticks,
            "right": CHART_LEFT + CHART_BAR}


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _context(result: ServiceAnalysis) -> dict[str, Any]:
    text = _text(result.country)
    states = result.workflow.states

    def name(code: str) -> str:
        state = states.get(code)
        return text(state.name) if state else code

    a = result.analysis
    stages = [{
        "code": s.stage, "name": name(s.stage), "visits": s.visits,
        "applications": s.applications, "open": s.open_visits,
        "median_h": None if s.median_hours is None else round(s.median_hours, 1),
        "p90_h": None if s.p90_hours is None else round(s.p90_hours, 1),
        "median_wd": None if s.median_working_days is None else round(s.median_working_days, 2),
        "p90_wd": None if s.p90_working_days is None else round(s.p90_working_days, 2),
        "days": round(s.citizen_days, 2), "share": _percent(s.deadline_share),
        "stopped": s.clock_stopped, "limit": s.limit, "over_limit": s.over_limit,
        "slowest": s.stage == a.slowest_stage,
        "loops": a.re_entries.get(s.stage, 0),
    } for s in a.stages]
    documents = [{**d.as_dict(), "name": text(result.document_names.get(d.code)) or d.code}
                 for d in a.documents]
    return {
        "result": result, "analysis": a, "stages": stages,
        "variants": [{"path": [name(p) for p in v.path], "applications": v.applications,
                      "share": _percent(v.share)} for v in a.variants],
        "documents": documents, "waits": [w.as_dict() for w in a.waits],
        "slowest": name(a.slowest_stage) if a.slowest_stage else None,
        "most_deadline": name(a.most_deadline_stage) if a.most_deadline_stage else None,
        "chart": dwell_chart(stages) if any(s["median_wd"] is not None for s in stages)
        else None,
        "service_name": text(result.service.versions.order_by("-valid_from").values_list(
            "name", flat=True).first()),
        "report_url": reverse("integrity:optimisation", args=[result.service.provider.code])
        + "?" + urlencode({"period": result.period}),
    }


@readers_only
def bottlenecks(request: HttpRequest) -> HttpResponse:
    country = current_country(request)
    if country is None:
        return error_page(request, gettext_lazy("No country pack is loaded yet."), 404)
    text = _text(country)
    visible = services.visible_services(request.user, country)
    names: dict[int, str] = {}
    latest = ServiceStandard.objects.filter(service__in=visible).order_by(
        "service_id", "valid_from").values_list("service_id", "name")
    for service_id, name in latest:  # the latest version's name wins
        names[service_id] = text(name)
    choices = [(s.code, f"{s.code} · {names.get(s.pk, '')}") for s in visible]
    if "service" not in request.GET and "period" not in request.GET:
        form = BottleneckForm(initial={"period": f"{local_today(country):%Y-%m}"},
                              choices=choices)
        return render(request, "integrity/bottlenecks.html", {"form": form})
    form = BottleneckForm(request.GET, choices=choices)
    if not form.is_valid():
        _mark_invalid(form)
        return render(request, "integrity/bottlenecks.html", {"form": form}, status=400)
    service = next(s for s in visible if s.code == form.cleaned_data["service"])
    try:
        result = services.analyse_service(country=country, service=service,
                                          period=form.cleaned_data["period"])
    except services.BottleneckError as exc:
        form.add_error(None, str(exc))
        return render(request, "integrity/bottlenecks.html", {"form": form}, status=400)
    return render(request, "integrity/bottlenecks.html", {"form": form, **_context(result)})


def _report(request: HttpRequest, agency: str
            ) -> optimisation.Report | HttpResponse:
    country = current_country(request)
    if country is None:
        return error_page(request, gettext_lazy("No country pack is loaded yet."), 404)
    try:
        found = services.find_agency(country, agency)
    except services.BottleneckError:
        return error_page(request, gettext_lazy("There is no such agency."), 404)
    if not services.may_see_agency(request.user, found.pk):
        return error_page(request, gettext_lazy(
            "You may open the report of your own agency only."), 403)
    period = request.GET.get("period") or f"{local_today(country):%Y-%m}"
    if not services.valid_period(period):
        return error_page(request, PERIOD_ERROR, 400)
    try:
        return optimisation.agency_report(country=country, agency=found, period=period)
    except services.BottleneckError as exc:
        return error_page(request, str(exc), 400)


@readers_only
def optimisation_page(request: HttpRequest, agency: str) -> HttpResponse:
    report = _report(request, agency)
    if isinstance(report, HttpResponse):
        return report
    text = _text(report.country)

    def row(change: optimisation.Change) -> dict[str, Any]:
        return {"kind": KIND_NAMES[change.kind], "title": change_title(change, report),
                "evidence": change_evidence(change), "saving": round(change.saving_days, 2)}

    query = "?" + urlencode({"period": report.period})
    return render(request, "integrity/optimisation.html", {
        "report": report, "agency_name": text(report.agency.name),
        "recommended": [row(c) for c in report.recommended],
        "others": [row(c) for c in report.candidates[len(report.recommended):]],
        "services": [{"code": r.service.code, "applications": r.analysis.applications,
                      "finished": r.analysis.finished,
                      "url": reverse("integrity:bottlenecks") + "?" + urlencode(
                          {"service": r.service.code, "period": report.period})}
                     for r in report.analyses],
        "pdf_url": reverse("integrity:optimisation_pdf", args=[report.agency.code]) + query,
        "total": round(report.total_saving_days, 2),
    })


@readers_only
def optimisation_pdf(request: HttpRequest, agency: str) -> HttpResponse:
    report = _report(request, agency)
    if isinstance(report, HttpResponse):
        return report
    data = render_pdf(report, get_language() or "en")
    response = HttpResponse(data, content_type="application/pdf")
    filename = f"optimisation-{report.agency.code}-{report.period}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
