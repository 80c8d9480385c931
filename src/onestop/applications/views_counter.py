"""A centre's counter, working without JavaScript: an operator submits an application on a
citizen's behalf (linked to the queue ticket being served), prints its receipt, and finds
any application to issue its result, with the back office's application page and actions.

Every write goes through `services.submit` or `services.act`; the pages only parse the
input, call one of them and show what it answered, per field.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications import selectors, services
from onestop.applications.errors import ApplicationError, NotFound, SubmissionInvalid
from onestop.applications.forms import ApplicationForm
from onestop.applications.models import Application
from onestop.applications.payments import PaymentDeclined
from onestop.applications.views_office import (
    STATUS,
    Desk,
    StaffForm,
    _act,
    _download,
    _fit,
    _for_roles,
    _mark_invalid,
    _show,
    _user,
)
from onestop.applications.views_portal import receipt_response, result_response
from onestop.catalogue.models import Country, Service, ServiceStandard
from onestop.catalogue.packs import APPLICANT_FACTS, marked_properties
from onestop.catalogue.selectors import (
    current_standard,
    national_id_label,
    search_services,
    service_by_code,
)
from onestop.centres import selectors as queue_selectors
from onestop.centres import services as queue
from onestop.centres.models import Centre
from onestop.core.pages import error_page
from onestop.core.text import localize

CENTRE_CHANNELS = frozenset(services.CHANNEL_OFFERED_AS["centre"])
COUNTER = Desk("office:counter_application", "office:counter_act", None,
               "office:counter_document", "office:counter_result")

counter_only = _for_roles({Role.OPERATOR}, gettext_lazy(
    "The counter is open to the operators of a one-stop-shop centre only."))


def _centre_country(user: User) -> Country:
    return cast(Centre, user.centre).country


def _offered_at_centres(country: Country, query: str = "") -> list[dict[str, Any]]:
    """The country's services whose standard in force today is served at a centre."""
    today = timezone.localdate(timezone=country.working_calendar().zone)
    rows = []
    for service in search_services(country=country, query=query):
        standard = current_standard(service, today)
        if standard is not None and CENTRE_CHANNELS & set(standard.channels):
            rows.append({"service": service, "standard": standard})
    return rows


@require_GET
@counter_only
def counter(request: HttpRequest) -> HttpResponse:
    country = _centre_country(_user(request))
    offered = _offered_at_centres(country)
    chosen = request.GET.get("service", "")
    problem = ""
    if chosen:
        if any(row["service"].code == chosen for row in offered):
            return HttpResponseRedirect(reverse("office:counter_service", args=[chosen]))
        problem = _("Choose a service from the list.")
    query = request.GET.get("q", "").strip()[:200]
    return render(request, "applications/office/counter.html", {
        "offered": offered, "query": query, "problem": problem,
        "found": _offered_at_centres(country, query) if query else None,
    }, status=422 if problem else 200)


class CitizenForm(StaffForm):
    """Who the operator applies for; `submission` makes a re-sent form one application."""

    national_id = forms.CharField(label=gettext_lazy("National ID number"), max_length=32)
    applicant_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    submission = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, standard: ServiceStandard, country: Country,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["national_id"].label = national_id_label(country)
        language, fallbacks = get_language() or "en", country.languages
        eform = standard.eform or {}
        self.eform, self.own = eform, own_fields(standard)
        for field, name in self.own.items():
            # the e-form's field for the applicant's own national ID, phone or e-mail is
            # this one (the e-form leaves it out): named as the pack names it, and required
            # where the e-form requires it
            spec = eform["properties"][name]
            label = localize(spec.get("x-title"), language, fallbacks) or spec.get("title")
            if label:
                self.fields[field].label = str(label)
            help_text = (localize(spec.get("x-description"), language, fallbacks)
                         or spec.get("description"))
            if help_text:
                self.fields[field].help_text = str(help_text)
            if name in (eform.get("required") or []):
                self.fields[field].required = True

    def clean_national_id(self) -> str:
        # the rule of services.submit, told here too so that it shows with the form's
        national_id: str = self.cleaned_data["national_id"].strip()
        if not national_id.isalnum() or not 6 <= len(national_id) <= 32:
            raise forms.ValidationError(_("A national ID number is 6 to 32 letters or digits."))
        return national_id

    def _fits_eform(self, field: str) -> str:
        # a contact that stands for an e-form field is checked against its format here,
        # where the operator types it
        value: str = self.cleaned_data[field]
        if value and field in self.own:
            problems = services.field_problems(self.eform, self.own[field], value)
            if problems:
                raise forms.ValidationError(problems)
        return value

    def clean_phone(self) -> str:
        return self._fits_eform("phone")

    def clean_email(self) -> str:
        return self._fits_eform("email")

    def clean_submission(self) -> str:
        token: str = self.cleaned_data["submission"]
        if not re.fullmatch(r"[0-9a-f]{32}", token):
            raise forms.ValidationError(_("This form has expired: please submit it again."))
        return token


def own_fields(standard: ServiceStandard) -> dict[str, str]:
    """The citizen's fields (`national_id`, `phone`, `email`) that stand for an e-form field
    the pack marks as the applicant's own, each with that field's name."""
    return {fact: name for fact, mark in APPLICANT_FACTS.items()
            for name in marked_properties(standard.eform, mark)}


def _counter_service(request: HttpRequest, code: str) -> tuple[Service, ServiceStandard] | None:
    country = _centre_country(_user(request))
    service = service_by_code(country, code)
    if service is None:
        return None
    standard = current_standard(
        service, timezone.localdate(timezone=country.working_calendar().zone))
    if standard is None or not CENTRE_CHANNELS & set(standard.channels):
        return None
    return service, standard


@require_http_methods(["GET", "POST"])
@counter_only
def counter_service(request: HttpRequest, code: str) -> HttpResponse:
    found = _counter_service(request, code)
    if found is None:
        return error_page(request, _("This service is not offered at one-stop-shop centres."), 404)
    service, standard = found
    user = _user(request)
    # The e-form's fields for the applicant's own national ID, phone and e-mail are the
    # citizen's, asked once above the e-form; services.submit fills them in.
    own = own_fields(standard)
    language = {"standard": standard, "language": get_language() or "en",
                "fallbacks": service.country.languages, "omit": own.values()}
    if request.method != "POST":
        citizen = CitizenForm(initial={"submission": uuid.uuid4().hex}, standard=standard,
                              country=service.country)
        return _counter_form(request, service, standard, citizen, ApplicationForm(**language))
    citizen = CitizenForm(request.POST, standard=standard, country=service.country)
    application = ApplicationForm(request.POST, request.FILES, **language)
    if not all([citizen.is_valid(), application.is_valid()]):
        return _counter_form(request, service, standard, citizen, application, status=422)
    data = citizen.cleaned_data
    try:
        submitted = services.submit(
            service=service, form_data=application.form_data(), channel="centre",
            national_id=data["national_id"], applicant_name=data["applicant_name"],
            phone=data["phone"], email=data["email"], submitted_by=user, centre=user.centre,
            documents=application.documents(), idempotency_key=data["submission"],
        )
    except SubmissionInvalid as exc:
        problems = dict(exc.problems)
        for text in problems.pop("national_id", []):
            citizen.add_error("national_id", text)
        for field, name in own.items():
            for text in problems.pop(f"form.{name}", []):
                citizen.add_error(field, text)
        application.add_problems(problems)
        return _counter_form(request, service, standard, citizen, application, status=422)
    except PaymentDeclined as exc:
        return _counter_form(request, service, standard, citizen, application, status=422,
                             problem=_("The payment was declined (%(reason)s); nothing was "
                                       "submitted.") % {"reason": exc})
    except ApplicationError as exc:
        # A Conflict: this form was sent before with other answers. A fresh token lets
        # the operator send what is on the screen now as a new application.
        fresh = request.POST.copy()
        fresh["submission"] = uuid.uuid4().hex
        return _counter_form(request, service, standard,
                             CitizenForm(fresh, standard=standard, country=service.country),
                             application,
                             problem=str(exc), status=STATUS.get(type(exc), 400))
    _link_to_ticket(request, user, submitted.application)
    return HttpResponseRedirect(
        reverse("office:counter_submitted", args=[submitted.application.number]))


def _link_to_ticket(request: HttpRequest, operator: User, application: Application) -> None:
    """An application taken while the operator serves a queue ticket belongs to it."""
    if queue_selectors.current_ticket(operator) is None:
        return
    try:
        queue.link_application(operator=operator, application=application)
    except queue.QueueError as exc:
        messages.warning(request, _("The application was not linked to your queue ticket: "
                                    "%(reason)s") % {"reason": exc})


def _counter_form(request: HttpRequest, service: Service, standard: ServiceStandard,
                  citizen: CitizenForm, application: ApplicationForm, *, problem: str = "",
                  status: int = 200) -> HttpResponse:
    for form in (citizen, application):
        if form.is_bound:
            _mark_invalid(form)
    _fit(application)
    return render(request, "applications/office/counter_form.html", {
        "service": service, "standard": standard, "citizen": citizen,
        "application": application, "problem": problem,
        "state_documents": standard.documents_from("state_database"),
        "has_errors": bool(problem) or any(f.is_bound and f.errors
                                           for f in (citizen, application)),
    }, status=status)


def _taken_here(request: HttpRequest, number: str) -> Application | HttpResponse:
    """An application taken at the operator's centre (what its receipt is printed for)."""
    application = selectors.visible(_user(request)).filter(number=number).first()
    if application is None:
        return error_page(request, _("No application with this number was taken at your centre."),
                      404)
    return application


@require_GET
@counter_only
def counter_submitted(request: HttpRequest, number: str) -> HttpResponse:
    application = _taken_here(request, number)
    if isinstance(application, HttpResponse):
        return application
    return render(request, "applications/office/counter_submitted.html", {
        "application": application, "access_code": services.access_code(application),
        "drawn_up_result": selectors.result_drawn_up_by_system(application),
    })


@require_GET
@counter_only
def counter_receipt(request: HttpRequest, number: str) -> HttpResponse:
    """The receipt to print for the citizen, with the QR code of the status page."""
    application = _taken_here(request, number)
    if isinstance(application, HttpResponse):
        return application
    return receipt_response(request, application, "inline")


@require_GET
@counter_only
def counter_result(request: HttpRequest, number: str) -> HttpResponse:
    """The result the system issued at once (an instant service), to print for the
    citizen at the counter, whichever centre took the application."""
    try:
        application = selectors.get_visible(_user(request), number)
    except NotFound:
        return error_page(request, _("No application has this number."), 404)
    if not selectors.result_drawn_up_by_system(application):
        return error_page(request, _("This application has no result to print here: a "
                                     "result the agency issued is among its documents."), 404)
    return result_response(request, application, get_language() or
                           application.country.languages[0], "inline")


class FindForm(StaffForm):
    number = forms.CharField(label=gettext_lazy("Application number"), max_length=32)


@require_GET
@counter_only
def counter_find(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.GET or None)
    status = 200
    if form.is_valid():
        number = form.cleaned_data["number"].strip().upper()
        try:
            selectors.get_visible(_user(request), number)
        except NotFound:
            form.add_error("number", _("No application has this number."))
            status = 404
        else:
            return HttpResponseRedirect(reverse(COUNTER.page, args=[number]))
    elif form.is_bound:
        status = 422
    if form.is_bound:
        _mark_invalid(form)
    return render(request, "applications/office/counter_find.html", {"form": form},
                  status=status)


@require_GET
@counter_only
def counter_application(request: HttpRequest, number: str) -> HttpResponse:
    return _show(request, number, COUNTER)


@require_POST
@counter_only
def counter_act(request: HttpRequest, number: str) -> HttpResponse:
    return _act(request, number, COUNTER)


@require_GET
@counter_only
def counter_document(request: HttpRequest, number: str, document_id: int) -> HttpResponseBase:
    return _download(request, number, document_id)
