"""Pages of the quality rankings for agency staff, controllers, analysts and admins: the
ranking of a period and scope (a table, with a bar chart drawn on the server), one unit's
indicators and trend, and the records behind one of its indicators. They only read
stored runs (`onestop assess` writes them) through `onestop.quality.selectors`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext, gettext_lazy

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.core import pages
from onestop.core.context import current_country
from onestop.core.pages import error_page
from onestop.core.text import localize
from onestop.quality import selectors
from onestop.quality.labels import INDICATOR_NAMES
from onestop.quality.methodology import SCOPES
from onestop.quality.models import AssessmentResult, AssessmentRun

View = Callable[..., HttpResponseBase]
PAGE_SIZE = 50
SCOPE_NAMES = {
    "agency": gettext_lazy("Agencies"), "region": gettext_lazy("Regions"),
    "centre": gettext_lazy("Centres"), "service": gettext_lazy("Services"),
    "operator": gettext_lazy("Operators"),
}
NUMERATOR_NAMES = {
    "late": gettext_lazy("late"),
    "overturned": gettext_lazy("overturned"),
    "digital": gettext_lazy("digital"),
    "completed": gettext_lazy("completed"),
    "answered in time": gettext_lazy("answered in time"),
    "found by the body itself": gettext_lazy("found by the body itself"),
    "served within the maximum wait": gettext_lazy("served within the maximum wait"),
}
RECORD_NAMES = {
    "applications": gettext_lazy("Applications"), "ratings": gettext_lazy("Ratings"),
    "complaints": gettext_lazy("Complaints"), "violations": gettext_lazy("Violations"),
    "tickets": gettext_lazy("Tickets"),
}



readers_only = pages.readers_only(selectors.may_see_rankings, gettext_lazy(
    "Quality rankings are open to agency staff, controllers, analysts and administrators "
    "only."))


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _text(country: Country) -> Callable[[dict[str, str] | None], str]:
    language = get_language() or "en"
    return lambda value: localize(value, language, country.languages)


def _allowed_scopes(user: User) -> list[str]:
    return [s for s in SCOPES if selectors.may_see_scope(user, s)]


class RankingForm(forms.Form):
    country = forms.ChoiceField(label=gettext_lazy("Country"))
    period = forms.CharField(
        label=gettext_lazy("Period"), max_length=7,
        help_text=gettext_lazy("A year (2026), half (2026-H2), quarter (2026-Q3) or month "
                               "(2026-07)."),
        validators=[RegexValidator(selectors.PERIOD_PATTERN, gettext_lazy(
            "Write the period as 2026, 2026-H2, 2026-Q3 or 2026-07."))],
    )
    scope = forms.ChoiceField(label=gettext_lazy("Rank"))

    def __init__(self, *args: Any, scopes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = get_language() or "en"
        cast(forms.ChoiceField, self.fields["country"]).choices = [
            (c.code, localize(c.name, language, c.languages))
            for c in Country.objects.order_by("code")]
        cast(forms.ChoiceField, self.fields["scope"]).choices = [
            (s, SCOPE_NAMES[s]) for s in scopes]


def _mark_invalid(form: forms.Form) -> None:
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}-errors"


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _value_cells(run: AssessmentRun, result: AssessmentResult) -> list[dict[str, Any]]:
    cells = []
    for indicator in selectors.methodology_of(run).indicators:
        stored = result.values.get(indicator.code) or {}
        value = stored.get("value")
        shown = (None if value is None else round(value, 2)
                 if indicator.measure == "cost_per_transaction" else _percent(value))
        cells.append({"code": indicator.code, "value": shown, "n": stored.get("n", 0),
                      "percent": indicator.measure != "cost_per_transaction"})
    return cells


def _indicators(run: AssessmentRun) -> list[dict[str, Any]]:
    return [{"code": i.code, "name": INDICATOR_NAMES.get(i.measure, i.code),
             "weight": i.weight} for i in selectors.methodology_of(run).indicators]


def _bands(run: AssessmentRun, text: Callable[[dict[str, str] | None], str]) -> dict[str, str]:
    return {b.code: text(dict(b.name)) or b.code for b in selectors.methodology_of(run).bands}


def _query(country: Country, period: str, scope: str | None = None, **more: Any) -> str:
    params: dict[str, Any] = {"country": country.code, "period": period}
    if scope:
        params["scope"] = scope
    params.update({k: v for k, v in more.items() if v not in (None, "")})
    return "?" + urlencode(params)


CHART_LEFT = 120
CHART_BAR = 360
ROW_HEIGHT = 22


def bar_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The geometry of a horizontal bar chart of the scores (0..100)."""
    bars = []
    for i, row in enumerate(rows):
        score = row["score"] or 0.0
        bars.append({
            "y": 10 + i * ROW_HEIGHT, "text_y": 10 + i * ROW_HEIGHT + 14,
            "width": max(score, 0.0) / 100 * CHART_BAR, "label": row["code"],
            "score": row["score"], "ranked": row["ranked"],
            "score_x": CHART_LEFT + max(score, 0.0) / 100 * CHART_BAR + 4,
        })
    height = 20 + len(rows) * ROW_HEIGHT + 16
    return {"bars": bars, "left": CHART_LEFT, "width": CHART_LEFT + CHART_BAR + 60,
            "height": height, "axis_y": height - 16,
            "ticks": [{"value": t, "x": CHART_LEFT + t / 100 * CHART_BAR}
                      for t in (0, 50, 100)]}


def sparkline(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A small line of the scores over the periods (gaps where a period has none)."""
    scored = [(i, p["score"]) for i, p in enumerate(points) if p["score"] is not None]
    if not scored:
        return None
    step = 40
    width = 20 + step * max(len(points) - 1, 1)
    dots = [{"x": 10 + i * step, "y": 10 + (100 - score) / 100 * 60, "score": score,
             "period": points[i]["period"]} for i, score in scored]
    return {"width": width, "height": 80,
            "path": " ".join(f"{d['x']:.1f},{d['y']:.1f}" for d in dots), "dots": dots}


@readers_only
def rankings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scopes = _allowed_scopes(user)
    form = RankingForm(request.GET or None, scopes=scopes)
    country = current_country(request)
    context: dict[str, Any] = {"form": form, "run": None, "missing": None}
    if form.is_bound:
        if not form.is_valid():
            _mark_invalid(form)
            return render(request, "quality/rankings.html", context, status=400)
        country = Country.objects.get(code=form.cleaned_data["country"])
        period, scope = form.cleaned_data["period"], form.cleaned_data["scope"]
    else:
        scope = "agency"
        periods = selectors.stored_periods(country, scope) if country else []
        period = periods[0] if periods else ""
        form = RankingForm(initial={"country": country.code if country else "",
                                    "period": period, "scope": scope}, scopes=scopes)
        context["form"] = form
    if country is None:
        context["missing"] = gettext("No country pack is loaded yet.")
        return render(request, "quality/rankings.html", context, status=404)
    context["periods"] = [
        {"period": p, "query": _query(country, p, scope)}
        for p in selectors.stored_periods(country, scope)]
    run = selectors.latest_run(country, period, scope) if period else None
    if run is None:
        context["missing"] = gettext(
            "No assessment is stored for %(country)s %(period)s by %(scope)s: run onestop "
            "assess.") % {"country": country.code, "period": period or "–", "scope": scope}
        return render(request, "quality/rankings.html", context,
                      status=404 if form.is_bound else 200)
    text = _text(country)
    results = selectors.ranking(run)
    names = selectors.unit_names(scope, [r.unit_id for r in results])
    bands = _bands(run, text)
    own = selectors.own_units(user, scope)
    rows = []
    for r in results:
        name = (gettext("operator #%(id)s") % {"id": r.unit_id} if scope == "operator"
                else text(names.get(r.unit_id)) or r.unit_code)
        may_open = own is None or r.unit_id in own
        rows.append({
            "code": r.unit_code, "name": name, "rank": r.rank, "ranked": r.ranked,
            "score": r.score, "band": bands.get(r.band, r.band), "n": r.n,
            "cells": _value_cells(run, r),
            "url": (reverse("quality:unit", args=[scope, r.unit_code])
                    + _query(country, period)) if may_open else None,
        })
    m = selectors.methodology_of(run)
    context.update({
        "run": run, "country": country, "scope_name": SCOPE_NAMES[scope], "rows": rows,
        "indicators": _indicators(run), "methodology": m,
        "chart": bar_chart(rows) if rows else None,
    })
    return render(request, "quality/rankings.html", context)


def _resolve(request: HttpRequest, scope: str, unit: str
             ) -> tuple[AssessmentRun, AssessmentResult] | HttpResponse:
    """The run (country and period from the query, the latest stored period by default)
    and the unit's result in it, or an error page."""
    user = _user(request)
    if scope not in SCOPES:
        return error_page(request, gettext_lazy("There is no such ranking."), 404)
    if not selectors.may_see_scope(user, scope):
        return error_page(request, gettext_lazy(
            "Operator-level results are open to controllers and analysts only."), 403)
    if not selectors.valid_unit(unit):
        return error_page(request, gettext_lazy("This unit is not in the assessment."), 404)
    code = request.GET.get("country") or ""
    country = (Country.objects.filter(code=code).first() if selectors.valid_country(code)
               else None) if code else current_country(request)
    if country is None:
        return error_page(request, gettext_lazy("There is no such country."), 404)
    period = request.GET.get("period") or ""
    if period and not selectors.valid_period(period):
        return error_page(request, gettext_lazy(
            "Write the period as 2026, 2026-H2, 2026-Q3 or 2026-07."), 400)
    if not period:
        periods = selectors.stored_periods(country, scope)
        period = periods[0] if periods else ""
    run = selectors.latest_run(country, period, scope) if period else None
    if run is None:
        return error_page(request, gettext_lazy(
            "No assessment is stored for this period: run onestop assess."), 404)
    result = selectors.result_for(run, unit)
    if result is None:
        return error_page(request, gettext_lazy("This unit is not in the assessment."), 404)
    if not selectors.may_drill(user, scope, result.unit_id):
        return error_page(request, gettext_lazy(
            "You may look into the units of your own agency or centre only."), 403)
    return run, result


def _unit_name(run: AssessmentRun, result: AssessmentResult) -> str:
    if run.scope == "operator":
        return gettext("operator #%(id)s") % {"id": result.unit_id}
    names = selectors.unit_names(run.scope, [result.unit_id])
    return _text(run.country)(names.get(result.unit_id)) or result.unit_code


@readers_only
def unit_page(request: HttpRequest, scope: str, unit: str) -> HttpResponse:
    found = _resolve(request, scope, unit)
    if isinstance(found, HttpResponse):
        return found
    run, result = found
    text = _text(run.country)
    bands = _bands(run, text)
    indicators = []
    for info, cell in zip(_indicators(run), _value_cells(run, result), strict=True):
        indicators.append({**info, **cell, "url": reverse(
            "quality:cases", args=[scope, result.unit_code, info["code"]])
            + _query(run.country, run.period)})
    trend = []
    for point in selectors.trend(run, result.unit_code):
        r = point.result
        trend.append({
            "period": point.period, "version": point.version, "example": point.example,
            "score": r.score if r else None, "band": bands.get(r.band, r.band) if r else "",
            "rank": r.rank if r and r.ranked else None, "ranked": bool(r and r.ranked),
            "n": r.n if r else None,
        })
    return render(request, "quality/unit.html", {
        "run": run, "result": result, "name": _unit_name(run, result),
        "scope_name": SCOPE_NAMES[scope], "band": bands.get(result.band, result.band),
        "methodology": selectors.methodology_of(run), "indicators": indicators,
        "trend": trend, "sparkline": sparkline(trend),
        "back": reverse("quality:rankings") + _query(run.country, run.period, scope),
    })


@readers_only
def cases_page(request: HttpRequest, scope: str, unit: str, indicator: str) -> HttpResponse:
    found = _resolve(request, scope, unit)
    if isinstance(found, HttpResponse):
        return found
    run, result = found
    flagged = {"1": True, "0": False}.get(request.GET.get("flagged", ""))
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    number = min(number, 100_000)
    try:
        page = selectors.cases(run, result, indicator, flagged=flagged,
                               offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    except LookupError:
        return error_page(request, gettext_lazy("The methodology has no such indicator."), 404)
    except selectors.DrillError:
        return error_page(request, gettext_lazy(
            "This indicator is a mean or a cost: it has no single numerator to filter by."),
            400)
    numbers = [c.application for c in page.items if c.application]
    openable = selectors.visible_numbers(_user(request), numbers)
    here = reverse("quality:cases", args=[scope, result.unit_code, indicator])
    flag_param = {True: "1", False: "0", None: ""}[flagged]
    items = [{
        "kind": c.kind, "ref": c.ref, "at": c.at, "in_numerator": c.in_numerator,
        "application": c.application,
        "url": reverse("office:application", args=[c.application])
        if c.application in openable else None,
        "detail": [(k, v) for k, v in c.detail.items() if v not in (None, "")],
    } for c in page.items]
    pages = max(1, -(-page.count // PAGE_SIZE))
    measure_name = INDICATOR_NAMES.get(page.measure, indicator)
    return render(request, "quality/cases.html", {
        "run": run, "result": result, "name": _unit_name(run, result),
        "indicator": indicator, "measure_name": measure_name,
        "records": RECORD_NAMES.get(page.records, page.records),
        "numerator": NUMERATOR_NAMES.get(page.numerator, page.numerator),
        "page": page, "items": items, "flagged": flagged, "number": number, "pages": pages,
        "previous": here + _query(run.country, run.period, flagged=flag_param,
                                  page=number - 1) if number > 1 else None,
        "next": here + _query(run.country, run.period, flagged=flag_param,
                              page=number + 1) if number < pages else None,
        "all_url": here + _query(run.country, run.period),
        "in_url": here + _query(run.country, run.period, flagged="1"),
        "out_url": here + _query(run.country, run.period, flagged="0"),
        "back": reverse("quality:unit", args=[scope, result.unit_code])
        + _query(run.country, run.period),
    })
