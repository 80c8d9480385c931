"""The control body's workspace (docs/redflags.md, "Workspace"): the red flags of the
latest stored run of a period by risk, with filters, paging and a CSV export, and a case
file per subject (flags over time, the evidence of the latest run, notes and an outcome).

Controllers see every subject and write notes and outcomes; supervisors of an agency
read their own agency's subjects only. Every view and export is written to the audit
chain, as the API's are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from onestop.accounts.models import User
from onestop.catalogue.models import Agency, Country, Region, Service
from onestop.core import pages
from onestop.core.context import current_country
from onestop.core.pages import error_page
from onestop.integrity import selectors, services
from onestop.integrity.flags_config import SUBJECT_KINDS
from onestop.integrity.models import CaseOutcome, FlagResult, FlagRun
from onestop.quality.selectors import PERIOD_PATTERN

PER_PAGE = 50
FLAG_NAMES: dict[str, Any] = {
    "refusal_rate": gettext_lazy("refusal rate"),
    "refuse_then_approve": gettext_lazy("refused, then approved"),
    "overturned_refusals": gettext_lazy("refusals overturned on complaint"),
    "deadline_riding": gettext_lazy("decisions at the deadline"),
    "out_of_order": gettext_lazy("tickets called out of order"),
    "slot_hoarding": gettext_lazy("appointment slots hoarded"),
    "intermediary": gettext_lazy("applications filed for others"),
    "counter_time": gettext_lazy("counter time too short or too long"),
    "off_hours": gettext_lazy("decisions outside working hours"),
    "rating_burst": gettext_lazy("bursts of top ratings"),
    "complaint_rate": gettext_lazy("complaint rate"),
    "extra_documents": gettext_lazy("documents beyond the standard"),
}
KIND_NAMES: dict[str, Any] = {
    "officer": gettext_lazy("officer"), "operator": gettext_lazy("operator"),
    "unit": gettext_lazy("unit"), "centre": gettext_lazy("centre"),
    "citizen": gettext_lazy("citizen account"),
}
EVIDENCE_NAMES: dict[str, Any] = {
    "applications": gettext_lazy("Applications"), "tickets": gettext_lazy("Tickets"),
    "ratings": gettext_lazy("Ratings"), "complaints": gettext_lazy("Complaints"),
    "appointments": gettext_lazy("Appointments"),
}
OUTCOME_NAMES: dict[str, Any] = {
    CaseOutcome.NO_ISSUE: gettext_lazy("no issue found"),
    CaseOutcome.INSPECTION: gettext_lazy("inspection ordered"),
    CaseOutcome.REFERRED: gettext_lazy("referred"),
}
CSV_HEADER = ["rank", "subject_kind", "subject_id", "subject", "agency", "region", "risk",
              "flags"]

readers_only = pages.readers_only(selectors.may_see_flags, gettext_lazy(
    "Red flags are open to the control body and to supervisors of an agency only."))


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


class FlagFilterForm(forms.Form):
    period = forms.CharField(
        label=gettext_lazy("Period"), max_length=7,
        help_text=gettext_lazy("A year (2026), half (2026-H2), quarter (2026-Q3) or month "
                               "(2026-07)."),
        validators=[RegexValidator(PERIOD_PATTERN, gettext_lazy(
            "Write the period as 2026, 2026-H2, 2026-Q3 or 2026-07."))])
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    agency = forms.ChoiceField(label=gettext_lazy("Agency"), required=False)
    service = forms.CharField(label=gettext_lazy("Service code"), required=False,
                              max_length=32)
    flag = forms.ChoiceField(label=gettext_lazy("Flag"), required=False, choices=[
        ("", gettext_lazy("all")), *FLAG_NAMES.items()])

    def __init__(self, *args: Any, country: Country, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country = country
        regions = Region.objects.filter(country=country).order_by("code")
        agencies = Agency.objects.filter(country=country).order_by("code")
        if user.role != selectors.CONTROL_ROLE:
            agencies = agencies.filter(pk=user.agency_id or 0)
        all_ = ("", _("all"))
        cast(forms.ChoiceField, self.fields["region"]).choices = [
            all_, *[(r.code, r.code) for r in regions]]
        cast(forms.ChoiceField, self.fields["agency"]).choices = [
            all_, *[(a.code, a.code) for a in agencies]]

    def clean_service(self) -> int | None:
        code = self.cleaned_data.get("service") or ""
        if not code:
            return None
        pk = Service.objects.filter(country=self.country, code=code).values_list(
            "pk", flat=True).first()
        if pk is None:
            raise forms.ValidationError(_("There is no service with this code."))
        return int(pk)


def _mark_invalid(form: forms.Form) -> None:
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}-errors"


def _rows(subjects: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """The subjects of the list with their names, agency, region and service codes."""
    labels = selectors.subject_labels([(s["kind"], s["id"]) for s in subjects])
    agencies = dict(Agency.objects.filter(
        pk__in={s["agency_id"] for s in subjects}).values_list("pk", "code"))
    regions = dict(Region.objects.filter(
        pk__in={s["region_id"] for s in subjects}).values_list("pk", "code"))
    services_ = dict(Service.objects.filter(
        pk__in={f["service_id"] for s in subjects for f in s["flags"]}).values_list(
        "pk", "code"))
    return [{
        "rank": start + i, "kind": s["kind"], "kind_name": KIND_NAMES.get(s["kind"], s["kind"]),
        "id": s["id"], "label": labels[(s["kind"], s["id"])],
        "agency": agencies.get(s["agency_id"], ""), "region": regions.get(s["region_id"], ""),
        "risk": s["risk"],
        "url": reverse("integrity:case", args=[s["kind"], s["id"]]),
        "flags": [{**f, "name": FLAG_NAMES.get(f["flag"], f["flag"]),
                   "service": services_.get(f["service_id"], "")} for f in s["flags"]],
    } for i, s in enumerate(subjects)]


def _csv_cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[dict[str, Any]], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in (
            row["rank"], row["kind"], row["id"], row["label"], row["agency"], row["region"],
            f"{row['risk']:.2f}",
            "; ".join(f"{f['flag']}:{f['score']:.2f}" for f in row["flags"]))])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _flag_list(request: HttpRequest, *, export: bool) -> HttpResponse:
    country = current_country(request)
    if country is None:
        return error_page(request, gettext_lazy("No country pack is loaded yet."), 404)
    user = _user(request)
    query = request.GET.copy()
    if not query.get("period"):
        latest = FlagRun.objects.filter(country=country).order_by(
            "-created_at", "-pk").values_list("period", flat=True).first()
        if latest is None:
            form = FlagFilterForm(country=country, user=user)
            return render(request, "integrity/flags.html", {"form": form, "no_runs": True})
        query["period"] = latest
    form = FlagFilterForm(query, country=country, user=user)
    asked = request.GET.get("agency") or None
    if user.role != selectors.CONTROL_ROLE and asked not in (None, getattr(
            user.agency, "code", None)):
        return error_page(request, gettext_lazy(
            "You may see the red flags of your own agency only."), 403)
    if not form.is_valid():
        _mark_invalid(form)
        return render(request, "integrity/flags.html", {"form": form}, status=400)
    data = form.cleaned_data
    run = selectors.latest_run(country, data["period"])
    if run is None:
        form.add_error("period", _("No red flags have been computed for this period."))
        _mark_invalid(form)
        return render(request, "integrity/flags.html", {"form": form}, status=404)
    agency_id = Agency.objects.filter(country=country, code=data["agency"]).values_list(
        "pk", flat=True).first() if data["agency"] else None
    try:
        agency_id = selectors.scoped_agency(user, agency_id)
    except selectors.OutOfScope:
        return error_page(request, gettext_lazy(
            "You may see the red flags of your own agency only."), 403)
    region_id = Region.objects.filter(country=country, code=data["region"]).values_list(
        "pk", flat=True).first() if data["region"] else None
    rows = selectors.results(run, agency_id=agency_id, region_id=region_id,
                             service_id=data["service"], flag=data["flag"] or None)
    total, subjects = selectors.subjects_by_risk(rows, limit=max(rows.count(), 1))
    filters = {"period": run.period, "region": data["region"] or None,
               "agency": data["agency"] or None, "service": request.GET.get("service") or None,
               "flag": data["flag"] or None}
    if export:
        listed = _rows(subjects, 1)
        services.record_view(user=user, run=run, what="flags_exported", filters=filters,
                             shown=len(listed))
        return _csv(listed, f"red-flags-{country.code}-{run.period}.csv")
    page = Paginator(subjects, PER_PAGE).get_page(request.GET.get("page"))
    listed = _rows(list(page.object_list), page.start_index())
    services.record_view(user=user, run=run, what="flags_viewed",
                         filters={**filters, "page": page.number}, shown=len(listed))
    query.pop("page", None)
    query.pop("format", None)
    query["format"] = "csv"
    return render(request, "integrity/flags.html", {
        "form": form, "run": run, "total": total, "page": page, "rows": listed,
        "csv_url": reverse("integrity:flags") + "?" + query.urlencode(),
    })


@readers_only
def flags(request: HttpRequest) -> HttpResponse:
    """The red flags by risk, or their CSV (`?format=csv`)."""
    return _flag_list(request, export=request.GET.get("format") == "csv")


@readers_only
def flags_csv(request: HttpRequest) -> HttpResponse:
    return _flag_list(request, export=True)


# --------------------------------------------------------------------------- case file


class NoteForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Note"), max_length=services.MAX_CASE_TEXT,
                           widget=forms.Textarea(attrs={"rows": 4}))


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"),
                                choices=list(OUTCOME_NAMES.items()), widget=forms.RadioSelect)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=services.MAX_CASE_TEXT,
                             widget=forms.Textarea(attrs={"rows": 3}))


def _subject(request: HttpRequest, kind: str, subject_id: int
             ) -> tuple[Country, list[FlagResult]] | HttpResponse:
    """The country and stored flags of a subject the user may read, or the error page."""
    country = current_country(request)
    if country is None:
        return error_page(request, gettext_lazy("No country pack is loaded yet."), 404)
    if kind not in SUBJECT_KINDS:
        return error_page(request, gettext_lazy("There is no such case file."), 404)
    history = list(selectors.subject_history(country, kind, subject_id))
    if not history and selectors.case_file(country, kind, subject_id) is None:
        return error_page(request, gettext_lazy("There is no such case file."), 404)
    if not selectors.may_see_subject(_user(request), country, kind, subject_id):
        return error_page(request, gettext_lazy(
            "You may open the case files of your own agency's subjects only."), 403)
    return country, history


def _case_page(request: HttpRequest, country: Country, kind: str, subject_id: int,
               history: list[FlagResult], *, note_form: NoteForm | None = None,
               outcome_form: OutcomeForm | None = None, status: int = 200) -> HttpResponse:
    user = _user(request)
    case = selectors.case_file(country, kind, subject_id)
    service_codes = dict(Service.objects.filter(
        pk__in={r.service_id for r in history}).values_list("pk", "code"))
    latest_run = history[0].run if history else None
    evidence = []
    for result in history:
        if result.run_id != getattr(latest_run, "pk", None):
            continue
        records = selectors.evidence_records(result.evidence)
        evidence.append({
            "flag": result.flag, "name": FLAG_NAMES.get(result.flag, result.flag),
            "kinds": [{"name": EVIDENCE_NAMES.get(k, k), "code": k, "records": v,
                       "total": len(result.evidence.get(k, []))}
                      for k, v in records.items()]})
    controller = user.role == selectors.CONTROL_ROLE
    return render(request, "integrity/case.html", {
        "kind": kind, "kind_name": KIND_NAMES.get(kind, kind), "subject_id": subject_id,
        "label": selectors.subject_labels([(kind, subject_id)])[(kind, subject_id)],
        "history": [{"result": r, "name": FLAG_NAMES.get(r.flag, r.flag),
                     "service": service_codes.get(r.service_id or 0, "")} for r in history],
        "latest_run": latest_run, "evidence": evidence, "case": case,
        "outcome_name": OUTCOME_NAMES.get(case.outcome, "") if case else "",
        "notes": list(case.notes.select_related("author")) if case else [],
        "may_write": controller,
        "note_form": note_form or NoteForm() if controller else None,
        "outcome_form": outcome_form or OutcomeForm() if controller else None,
        "list_url": reverse("integrity:flags") + (
            f"?period={latest_run.period}" if latest_run else ""),
    }, status=status)


@readers_only
def case(request: HttpRequest, kind: str, subject_id: int) -> HttpResponse:
    found = _subject(request, kind, subject_id)
    if isinstance(found, HttpResponse):
        return found
    country, history = found
    services.record_case_event(user=_user(request), country=country, kind=kind,
                               subject_id=subject_id, what="case_viewed",
                               data={"runs": len({r.run_id for r in history})})
    return _case_page(request, country, kind, subject_id, history)


def _writer(request: HttpRequest, kind: str, subject_id: int
            ) -> tuple[Country, list[FlagResult]] | HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not selectors.may_see_flags(request.user):
        return error_page(request, gettext_lazy(
            "Red flags are open to the control body and to supervisors of an agency only."),
            403)
    found = _subject(request, kind, subject_id)
    if isinstance(found, HttpResponse):
        return found
    if _user(request).role != selectors.CONTROL_ROLE:
        return error_page(request, gettext_lazy(
            "Only controllers write notes and outcomes in case files."), 403)
    return found


CaseWrite = Callable[[User, Country, dict[str, Any]], object]


def _write_case(request: HttpRequest, kind: str, subject_id: int,
                form_class: type[NoteForm | OutcomeForm], write: CaseWrite,
                error_field: str, done: str) -> HttpResponse:
    """A controller's form posted to a case file: valid, `write(user, country,
    cleaned_data)` records it and the case file is shown again with `done`; invalid, or
    refused by the service (its CaseError shown on `error_field`), the case page comes
    back with the form and its errors (400)."""
    found = _writer(request, kind, subject_id)
    if isinstance(found, HttpResponse):
        return found
    country, history = found
    form = form_class(request.POST)
    if form.is_valid():
        try:
            write(_user(request), country, form.cleaned_data)
        except services.CaseError as exc:
            form.add_error(error_field, str(exc))
        else:
            messages.success(request, done)
            return redirect("integrity:case", kind=kind, subject_id=subject_id)
    _mark_invalid(form)
    return _case_page(request, country, kind, subject_id, history, status=400,
                      note_form=form if isinstance(form, NoteForm) else None,
                      outcome_form=form if isinstance(form, OutcomeForm) else None)


@require_POST
def add_note(request: HttpRequest, kind: str, subject_id: int) -> HttpResponse:
    def write(user: User, country: Country, data: dict[str, Any]) -> None:
        services.add_case_note(user=user, country=country, kind=kind,
                               subject_id=subject_id, text=data["text"])

    return _write_case(request, kind, subject_id, NoteForm, write, "text",
                       _("The note was added."))


@require_POST
def set_outcome(request: HttpRequest, kind: str, subject_id: int) -> HttpResponse:
    def write(user: User, country: Country, data: dict[str, Any]) -> None:
        services.set_case_outcome(user=user, country=country, kind=kind,
                                  subject_id=subject_id, outcome=data["outcome"],
                                  reason=data["reason"])

    return _write_case(request, kind, subject_id, OutcomeForm, write, "reason",
                       _("The outcome was recorded."))
