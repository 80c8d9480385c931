"""Pages for a centre's manager, controllers, analysts and admins: the queue statistics
of today and of a chosen period, and the staffing planner (a table and an SVG chart
drawn on the server). They only read: `stats` and `planning` do the work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.views.decorators.http import require_GET

from onestop.accounts.models import User
from onestop.catalogue.selectors import local_today
from onestop.centres import planner, planning, stats
from onestop.centres.models import Centre
from onestop.core.context import current_country
from onestop.core.pages import error_page
from onestop.core.text import localize

View = Callable[..., HttpResponseBase]
WEEKDAY_NAMES = (
    gettext_lazy("Monday"), gettext_lazy("Tuesday"), gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"), gettext_lazy("Friday"), gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
WEEKDAY_SHORT = (
    gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"), gettext_lazy("Thu"),
    gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun"),
)
SOURCE_NAMES = {
    "kiosk": gettext_lazy("kiosk"), "reception": gettext_lazy("reception"),
    "appointment": gettext_lazy("appointment"), "api": gettext_lazy("API"),
}



def _find_centre(request: HttpRequest, code: str) -> Centre | None:
    """The centre with this code: the user's own centre first, else in the country shown."""
    user = cast(User, request.user)
    if user.centre_id is not None:
        own = Centre.objects.filter(pk=user.centre_id, code=code).select_related(
            "country", "region").first()
        if own is not None:
            return own
    country = current_country(request)
    if country is None:
        return None
    return Centre.objects.filter(country=country, code=code).select_related(
        "country", "region").first()


def centre_page(view: View) -> View:
    """Signed-in managers of the centre, controllers, analysts and admins; others 403."""

    @wraps(view)
    def guarded(request: HttpRequest, code: str) -> HttpResponseBase:
        centre = _find_centre(request, code)
        if centre is None:
            return error_page(request, gettext_lazy("There is no centre with this code."), 404)
        if not stats.may_see_statistics(request.user, centre, operators=False):
            return error_page(request, gettext_lazy(
                "This page is open to the centre's manager, controllers, analysts and "
                "administrators only."), 403)
        return view(request, centre)

    return login_required(require_GET(guarded))


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _summary_row(label: str | Promise, summary: stats.Summary, max_wait: int | None
                 ) -> dict[str, Any]:
    return {
        "label": label,
        "max_wait": max_wait,
        "tickets": summary.tickets,
        "served": summary.served,
        "no_show": summary.no_show,
        "avg_wait": _minutes(summary.avg_wait_seconds),
        "p90_wait": _minutes(summary.p90_wait_seconds),
        "avg_service": _minutes(summary.avg_service_seconds),
        "p90_service": _minutes(summary.p90_service_seconds),
        "within": _percent(summary.within_standard_share),
        "no_show_rate": _percent(summary.no_show_rate),
    }


def _period_table(period: stats.PeriodStats, text: Callable[[dict[str, str]], str]
                  ) -> dict[str, Any]:
    rows = [_summary_row(f"{g.group.code} · {text(g.group.name)}", g.summary,
                         g.max_wait_minutes) for g in period.groups]
    rows.append(_summary_row(gettext_lazy("All groups"), period.total, None))
    return {
        "first_day": period.first_day,
        "last_day": period.last_day,
        "rows": rows,
        "by_source": [(SOURCE_NAMES.get(k, k), v) for k, v in period.by_source.items()],
        "per_counter": list(period.served_per_counter.items()),
        "empty": period.total.tickets == 0,
    }


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"),
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"),
                          widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", gettext_lazy("The period must not end before it starts."))
            elif (end - start).days + 1 > stats.MAX_PERIOD_DAYS:
                self.add_error("end", gettext_lazy(
                    "Choose a period of at most %(days)d days.") % {
                        "days": stats.MAX_PERIOD_DAYS})
        return data


def _mark_invalid(form: forms.Form) -> None:
    """Point each input with an error at its message, for screen readers."""
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}-errors"


def _text(request: HttpRequest, centre: Centre) -> Callable[[dict[str, str]], str]:
    language = get_language() or "en"
    return lambda value: localize(value, language, centre.country.languages)


@centre_page
def statistics(request: HttpRequest, centre: Centre) -> HttpResponse:
    text = _text(request, centre)
    live = stats.centre_live(centre)
    today = stats.today_stats(centre)
    form = PeriodForm(request.GET or None)
    period = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            period = _period_table(
                stats.period_stats(centre, form.cleaned_data["start"],
                                   form.cleaned_data["end"]), text)
        else:
            _mark_invalid(form)
            status = 400
    else:
        day = local_today(centre.country)
        form = PeriodForm(initial={"start": day - dt.timedelta(days=6), "end": day})
    queue = [{
        "group": f"{g.group.code} · {text(g.group.name)}",
        "waiting": g.waiting,
        "open_counters": g.open_counters,
        "longest": _minutes(g.longest_wait_seconds),
        "expected": _minutes(g.expected_wait_seconds),
        "serving": g.now_serving,
    } for g in live.groups]
    return render(request, "centres/stats/statistics.html", {
        "centre": centre, "centre_name": text(centre.name), "queue": queue,
        "today": _period_table(today, text), "form": form, "period": period,
    }, status=status)


class PlannerForm(forms.Form):
    weeks = forms.IntegerField(label=gettext_lazy("Weeks of history"), min_value=1,
                               max_value=planning.MAX_WEEKS, initial=planning.DEFAULT_WEEKS)
    target = forms.IntegerField(
        label=gettext_lazy("Share served within the maximum wait, %"), min_value=50,
        max_value=99, initial=round(100 * planner.DEFAULT_TARGET_SHARE))


CHART_HEIGHT = 160
BAR_WIDTH = 8
CHART_LEFT = 32


def chart(rows: list[planning.PlanRow]) -> dict[str, Any]:
    """The geometry of a bar chart of the recommended counters per open hour."""
    peak = max((r.counters for r in rows), default=0) or 1
    scale = CHART_HEIGHT / peak
    bars, days = [], []
    x = CHART_LEFT
    previous_day = None
    for row in rows:
        if row.weekday != previous_day:
            if previous_day is not None:
                x += BAR_WIDTH  # a gap between days
            days.append({"x": x, "label": WEEKDAY_SHORT[row.weekday]})
            previous_day = row.weekday
        height = row.counters * scale
        bars.append({"x": x, "y": 10 + CHART_HEIGHT - height, "height": height,
                     "width": BAR_WIDTH - 1, "label": f"{row.hour:02d}:00",
                     "counters": row.counters, "day": WEEKDAY_NAMES[row.weekday]})
        x += BAR_WIDTH
    ticks = sorted({0, peak // 2, peak})
    return {
        "width": x + 10, "height": CHART_HEIGHT + 40, "bars": bars, "days": days,
        "axis_y": 10 + CHART_HEIGHT, "left": CHART_LEFT,
        "ticks": [{"value": t, "y": 10 + CHART_HEIGHT - t * scale} for t in ticks],
    }


@centre_page
def planner_page(request: HttpRequest, centre: Centre) -> HttpResponse:
    text = _text(request, centre)
    form = PlannerForm(request.GET or None)
    plan = None
    status = 200
    weeks, target = planning.DEFAULT_WEEKS, planner.DEFAULT_TARGET_SHARE
    if form.is_bound:
        if form.is_valid():
            weeks, target = form.cleaned_data["weeks"], form.cleaned_data["target"] / 100
        else:
            _mark_invalid(form)
            status = 400
    else:
        form = PlannerForm(initial={"weeks": weeks, "target": round(100 * target)})
    if status == 200:
        plan = planning.plan_centre(centre, weeks=weeks, target_share=target)
    rows = []
    if plan is not None:
        rows = [{
            "day": WEEKDAY_NAMES[r.weekday], "hour": f"{r.hour:02d}:00",
            "arrivals": round(r.arrivals_per_hour, 1),
            "service": round(r.mean_service_minutes, 1),
            "counters": r.counters,
            "erlang_share": _percent(r.erlang_share_within),
            "simulated_share": _percent(r.simulated_share_within),
            "erlang_wait": _round(planning.finite(r.erlang_mean_wait_minutes)),
            "simulated_wait": _round(planning.finite(r.simulated_mean_wait_minutes)),
            "meets": r.meets_standard,
        } for r in plan.rows]
    return render(request, "centres/stats/planner.html", {
        "centre": centre, "centre_name": text(centre.name), "form": form, "plan": plan,
        "rows": rows, "chart": chart(plan.rows) if plan and plan.rows else None,
        "target_percent": round(100 * target),
    }, status=status)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
