"""Pages of the control of violations, working without JavaScript.

`/control/violations/`: the violations in my scope with filters (kind, state, agency, who
found it, period) and paging; `/control/violations/<id>/`: one violation with its
handling (acknowledge, explain, penalise, close). Supervisors see their agency's (and
its sub-units') or their centre's; controllers, analysts and admins all. The responsible
person is listed to controllers, analysts and admins only, and shown to a supervisor on
the page of one violation of their scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from onestop.accounts.models import User
from onestop.catalogue.models import Agency
from onestop.control import selectors, services
from onestop.control.errors import ControlError, Forbidden, NotFound
from onestop.control.models import FoundBy, Violation, ViolationKind, ViolationState
from onestop.core.context import current_country

PER_PAGE = 50
KIND_NAMES: dict[str, Any] = {
    ViolationKind.DEADLINE_MISSED: gettext_lazy("deadline missed"),
    ViolationKind.DEADLINE_NEAR: gettext_lazy("deadline near"),
    ViolationKind.STAGE_OVERDUE: gettext_lazy("stage over its time limit"),
    ViolationKind.WAIT_OVER: gettext_lazy("wait over the standard"),
    ViolationKind.COUNTER_TIME_OVER: gettext_lazy("time at the counter over the standard"),
    ViolationKind.COMPLAINT_OVERDUE: gettext_lazy("complaint answered late"),
    ViolationKind.REFUSAL_GROUND: gettext_lazy("refusal on a ground not in the standard"),
    ViolationKind.EXTRA_DOCUMENTS: gettext_lazy("documents requested beyond the standard"),
    ViolationKind.UNJUSTIFIED_REFUSAL: gettext_lazy("unjustified refusal"),
}
STATE_NAMES: dict[str, Any] = {
    ViolationState.OPEN: gettext_lazy("open"),
    ViolationState.ACKNOWLEDGED: gettext_lazy("acknowledged"),
    ViolationState.EXPLAINED: gettext_lazy("explained"),
    ViolationState.PENALISED: gettext_lazy("penalised"),
    ViolationState.CLOSED: gettext_lazy("closed"),
}
FOUND_NAMES: dict[str, Any] = {
    FoundBy.SELF: gettext_lazy("the agency itself"),
    FoundBy.CONTROL: gettext_lazy("the control body"),
}
ACTION_NAMES: dict[str, Any] = {
    "acknowledge": gettext_lazy("Acknowledge"),
    "explain": gettext_lazy("Explain"),
    "penalise": gettext_lazy("Record a penalty"),
    "close": gettext_lazy("Close"),
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _page_error(request: HttpRequest, message: Any, status: int) -> HttpResponse:
    return render(request, "control/error.html", {"message": message, "status": status},
                  status=status)


def _refused(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not selectors.may_read(_user(request)):
        return _page_error(request, _(
            "Violations are for supervisors and the control body."), 403)
    return None


class FilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False,
                             choices=[("", gettext_lazy("all")), *list(KIND_NAMES.items())])
    state = forms.ChoiceField(
        label=gettext_lazy("State"), required=False,
        choices=[("", gettext_lazy("all")), ("active", gettext_lazy("not closed")),
                 *STATE_NAMES.items()])
    agency = forms.ChoiceField(label=gettext_lazy("Agency"), required=False, choices=[])
    found_by = forms.ChoiceField(label=gettext_lazy("Found by"), required=False,
                                 choices=[("", gettext_lazy("all")), *list(FOUND_NAMES.items())])
    since = forms.DateField(label=gettext_lazy("Found from"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("Found until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start."))
        return cleaned


def _zone(request: HttpRequest) -> ZoneInfo:
    """The time zone the period filter's dates are read in: the page's country's."""
    country = current_country(request)
    return ZoneInfo(country.time_zone if country is not None else "UTC")


def _row(violation: Violation, user: User, *, one: bool) -> dict[str, Any]:
    return {
        "violation": violation,
        "kind": KIND_NAMES.get(violation.kind, violation.kind),
        "state": STATE_NAMES.get(violation.state, violation.state),
        "found_by": FOUND_NAMES.get(violation.found_by, violation.found_by),
        "person": violation.person.username
        if violation.person and selectors.shows_person(user, one=one) else "",
        "zone": ZoneInfo(violation.country.time_zone),
    }


@require_GET
def violations(request: HttpRequest) -> HttpResponse:
    """The violations in my scope, the newest first, with filters and paging."""
    refused = _refused(request)
    if refused is not None:
        return refused
    user = _user(request)
    visible = selectors.visible_violations(user)
    form = FilterForm(request.GET or None)
    agencies = Agency.objects.filter(
        pk__in=visible.exclude(agency__isnull=True).values("agency_id")
    ).order_by("code").values_list("code", flat=True)
    form.fields["agency"].choices = [("", _("all"))] + [(c, c) for c in agencies]  # type: ignore[attr-defined]
    status = 200
    found = selectors.filtered(visible)
    if request.GET:
        if form.is_valid():
            data = form.cleaned_data
            zone = _zone(request)
            found = selectors.filtered(
                visible, kind=data["kind"], state=data["state"], agency=data["agency"],
                found_by=data["found_by"],
                since=dt.datetime.combine(data["since"], dt.time(), zone)
                if data["since"] else None,
                until=dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time(), zone)
                if data["until"] else None,
            )
        else:
            status = 422
            found = found.none()
    page = Paginator(selectors.listed(found), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "control/violations.html", {
        "form": form, "page": page, "rows": [_row(v, user, one=False) for v in page],
        "show_person": selectors.shows_person(user, one=False),
    }, status=status)


class HandleForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"),
                               choices=list(ACTION_NAMES.items()), widget=forms.RadioSelect)
    note = forms.CharField(
        label=gettext_lazy("Note (required to explain or to record a penalty)"),
        required=False, max_length=services.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 4}))


@require_http_methods(["GET", "POST"])
def violation(request: HttpRequest, violation_id: int) -> HttpResponse:
    """One violation in my scope, with the handling I may do."""
    refused = _refused(request)
    if refused is not None:
        return refused
    user = _user(request)
    try:
        found = selectors.get_violation(user, violation_id)
    except NotFound:
        return _page_error(request, _("No such violation in your scope."), 404)
    actions = services.actions_for(user, found)
    form = HandleForm(request.POST if request.method == "POST" else None)
    form.fields["action"].choices = [(a, ACTION_NAMES[a]) for a in actions]  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        if not actions:
            return _page_error(request, _("You may not handle this violation now."), 403)
        status = 422
        if form.is_valid():
            try:
                services.handle(violation=found, user=user, action=form.cleaned_data["action"],
                                note=form.cleaned_data["note"])
            except Forbidden as exc:
                form.add_error(None, str(exc))
                status = 403
            except ControlError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Done."))
                return redirect("control:violation", violation_id=found.pk)
    history = found.detail.get("handling", []) if isinstance(found.detail, dict) else []
    facts = {k: v for k, v in (found.detail or {}).items() if k != "handling"} \
        if isinstance(found.detail, dict) else {}
    return render(request, "control/violation.html", {
        **_row(found, user, one=True), "form": form, "actions": actions,
        "history": history, "facts": sorted(facts.items()),
    }, status=status)
