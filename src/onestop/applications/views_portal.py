"""The citizen's portal: apply online (with drafts), my applications with their history and
the actions I may take, documents and receipts, and the public status check.

Every page works without JavaScript. Each view reads the request, calls one service or
selector and renders; personal pages are for a signed-in citizen and show only their own
applications (another's number is a 404, as if it did not exist).
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from contextlib import suppress
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications import drafts as draft_services
from onestop.applications import receipts, selectors, services, timeleft
from onestop.applications.errors import Conflict, Forbidden, NotFound, SubmissionInvalid
from onestop.applications.forms import ActionForm, ApplicationForm, document_label
from onestop.applications.models import Application, ApplicationEvent, Draft
from onestop.applications.payments import PaymentDeclined
from onestop.applications.workflow import Outcome, Workflow
from onestop.catalogue import selectors as catalogue
from onestop.catalogue.models import Country, Service, ServiceStandard
from onestop.core.citizen_pages import citizen_required, signed_in_user
from onestop.core.context import current_country
from onestop.core.text import localize

PER_PAGE = 20
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CITIZEN_INPUTS = frozenset({"comment", "documents"})  # what a citizen can give an action


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "applications/portal/not_found.html", status=404)


def _language(country: Country) -> str:
    return get_language() or country.languages[0]


# --- how an application reads to its applicant -----------------------------------------


def _state_name(workflow: Workflow, code: str, language: str, fallbacks: list[str]) -> str:
    state = workflow.states.get(code)
    return localize(state.name, language, fallbacks) if state else code


def _action_name(workflow: Workflow, event: ApplicationEvent, language: str,
                 fallbacks: list[str]) -> str:
    if event.action == "submit":
        return _("Application submitted")
    if event.action == "assign":
        return _("Assigned to an officer")
    # One code may name different steps of a multi-stage workflow: match the transition.
    same_code = [a for a in workflow.actions if a.code == event.action]
    exact = [a for a in same_code if event.from_state in a.sources and a.target == event.to_state]
    chosen = exact or same_code
    return localize(chosen[0].name, language, fallbacks) if chosen else event.action


class _Workflows(dict[tuple[int, str], Workflow]):
    """The workflows of the applications on one page, each read once."""

    def of(self, application: Application) -> Workflow:
        key = (application.country_id, application.workflow)
        if key not in self:
            self[key] = services.workflow_of(application)
        return self[key]


# --- apply -----------------------------------------------------------------------------


def _service_or_404(request: HttpRequest,
                    code: str) -> tuple[Country, Service, ServiceStandard]:
    country = current_country(request)
    service = catalogue.service_by_code(country, code) if country else None
    if country is None or service is None:
        raise Http404("no such service")
    standard = catalogue.current_standard(service, catalogue.local_today(country))
    if standard is None:
        raise Http404("no standard in force")
    return country, service, standard


@citizen_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """The e-form of a service, its uploads, a draft to save and resume, and Submit."""
    country, service, standard = _service_or_404(request, code)
    user = signed_in_user(request)
    draft: Draft | None = None
    draft_id = request.POST.get("draft") or request.GET.get("draft") or ""
    if draft_id:
        try:
            draft = draft_services.resume(owner=user, service=service, draft_id=draft_id)
        except NotFound:
            return _not_found(request)
    online = bool(services.CHANNEL_OFFERED_AS["portal"] & set(standard.channels))
    # what the state knows of the applicant: their national ID, e-mail and phone fill the
    # e-form's fields marked as theirs (services.submit fills them in when left empty)
    known = services.applicant_fields(standard, national_id=user.national_id,
                                      email=user.email, phone=user.phone)
    options: dict[str, Any] = {"standard": standard, "language": _language(country),
                               "fallbacks": country.languages, "filled_in": known}
    token = request.POST.get("token", "")
    if request.method == "POST" and online:
        form = ApplicationForm(request.POST, request.FILES, **options)
        if request.POST.get("intent") == "save":
            try:
                draft = draft_services.save(owner=user, service=service,
                                            form_data=form.draft_data(), draft=draft)
            except NotFound:  # deleted in another tab meanwhile
                return _not_found(request)
            messages.success(request, _("Your draft is saved. Uploaded files are not kept in "
                                        "a draft: attach them again before you submit."))
            return redirect(f"{reverse('portal:apply', args=[code])}?draft={draft.pk}")
        if TOKEN.match(token):
            done = _submit(request, form, service, user, token, draft)
            if done is not None:
                return done
        else:
            form.add_error(None, _("This form is out of date: check it and submit again."))
        status = 422
    else:
        # a new form starts with what the state knows of the applicant
        initial = draft.form_data if draft else known
        form = ApplicationForm(initial=initial, **options)
        status = 200 if request.method == "GET" else 422
    return render(request, "applications/portal/apply.html", {
        "service": service, "standard": standard, "form": form, "draft": draft,
        "online": online, "has_national_id": bool(user.national_id),
        # a new token for each form shown: one form sent twice makes one application
        "token": secrets.token_urlsafe(24),
    }, status=status)


def _submit(request: HttpRequest, form: ApplicationForm, service: Service, user: User,
            token: str, draft: Draft | None) -> HttpResponse | None:
    """Submit the form; the redirect to the new application, or None with the problems
    shown on the form."""
    valid = form.is_valid()
    if not user.national_id:
        form.add_error(None, _("Your account has no national ID on record, and an application "
                               "needs one. Visit a public service centre with your identity "
                               "document to have it added, then apply again."))
        return None
    if not valid:
        return None
    try:
        result = services.submit(
            service=service, form_data=form.form_data(), channel="portal",
            national_id=user.national_id, applicant=user, submitted_by=user, email=user.email,
            documents=form.documents(), idempotency_key=f"portal-{token}",
        )
    except SubmissionInvalid as exc:
        form.add_problems(exc.problems)
        return None
    except Conflict:
        form.add_error(None, _("This form was already sent with other answers. "
                               "Check the form and submit it again."))
        return None
    except PaymentDeclined as exc:
        form.add_error(None, _("The payment was declined (%(reason)s); nothing was submitted.")
                       % {"reason": exc})
        return None
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    if draft is not None:
        with suppress(NotFound):  # already deleted, in another tab
            draft_services.delete(owner=user, draft_id=draft.pk)
    number = result.application.number
    messages.success(request, _(
        "Your application %(number)s is submitted. Your access code for checking its status "
        "is %(code)s: it is also on the receipt."
    ) % {"number": number, "code": result.access_code})
    return redirect("portal:application", number=number)


# --- drafts ------------------------------------------------------------------------------


@citizen_required
@require_GET
def drafts(request: HttpRequest) -> HttpResponse:
    """My saved drafts, the latest first."""
    rows = []
    own_drafts = Draft.objects.filter(owner=signed_in_user(request))
    for draft in own_drafts.select_related("service__country"):
        country = draft.service.country
        standard = catalogue.standard_in_force(draft.service, catalogue.local_today(country))
        name = localize(standard.name if standard else None, _language(country),
                        country.languages)
        rows.append({"draft": draft, "service_name": name or draft.service.code})
    return render(request, "applications/portal/drafts.html", {"rows": rows})


@citizen_required
@require_POST
def delete_draft(request: HttpRequest, draft_id: int) -> HttpResponse:
    try:
        draft_services.delete(owner=signed_in_user(request), draft_id=draft_id)
    except NotFound:
        return _not_found(request)
    messages.success(request, _("The draft is deleted."))
    return redirect("portal:drafts")


# --- my applications -------------------------------------------------------------------


@citizen_required
@require_GET
def cabinet(request: HttpRequest) -> HttpResponse:
    """My applications, the newest first, with their state and the time left."""
    user = signed_in_user(request)
    mine = selectors.with_clock_events(selectors.visible(user).order_by("-submitted_at", "-pk"))
    page = Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    workflows = _Workflows()
    rows = []
    for application in page:
        languages = application.country.languages
        language = get_language() or languages[0]
        rows.append({
            "application": application,
            "zone": application.country.time_zone,
            "service_name": localize(application.standard.name, language, languages),
            "state_name": _state_name(workflows.of(application), application.state, language,
                                      languages),
            "left": timeleft.for_citizen(application, now),
        })
    return render(request, "applications/portal/cabinet.html", {"rows": rows, "page": page})


def _own(request: HttpRequest, number: str) -> Application:
    try:
        return selectors.get_visible(signed_in_user(request), number)
    except NotFound:
        raise Http404("no such application") from None


def _documents_asked(application: Application) -> tuple[ApplicationEvent | None, list[str]]:
    """The event that stopped the clock to ask for documents, and the codes asked for."""
    if application.clock_stopped_at is None:
        return None, []
    stop = application.events.filter(clock="stop").order_by("-at", "-pk").first()
    return stop, list(stop.data.get("requested_documents", [])) if stop else []


def _action_forms(application: Application, workflow: Workflow, language: str,
                  asked: list[str], request: HttpRequest | None = None) -> dict[str, ActionForm]:
    """A form for each action the citizen may take now; the posted one bound to the request."""
    if not application.is_open:
        return {}
    fallbacks = application.country.languages
    applicant_documents = [str(d["code"]) for d in application.standard.documents_from("applicant")]
    found: dict[str, ActionForm] = {}
    for action in workflow.actions_for(application.state, Role.CITIZEN.value):
        if not action.requires <= CITIZEN_INPUTS or action.code in found:
            continue
        codes = (asked or applicant_documents) if "documents" in action.requires else []
        withdraws = workflow.states[action.target].outcome == Outcome.WITHDRAWN
        data, files = None, None
        if request is not None and request.POST.get("action") == action.code:
            data, files = request.POST, request.FILES
        form = ActionForm(
            data, files,
            action=action.code,
            title=localize(action.name, language, fallbacks),
            documents={c: document_label(application.standard, c, language, fallbacks)
                       for c in codes},
            comment_required="comment" in action.requires,
            confirm=_("Yes, withdraw this application. This cannot be undone.")
            if withdraws else "",
        )
        found[action.code] = form
    return found


@citizen_required
@require_http_methods(["GET", "POST"])
def application_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Everything about one of my applications, and the actions I may take on it now."""
    application = _own(request, number)
    workflow = services.workflow_of(application)
    languages = application.country.languages
    language = get_language() or languages[0]
    stop, asked = _documents_asked(application)
    action_forms = _action_forms(application, workflow, language, asked,
                                 request if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        form = action_forms.get(request.POST.get("action", ""))
        if form is None:
            messages.error(request, _("This action cannot be taken on the application now."))
            return redirect("portal:application", number=number)
        status = 422
        if form.is_valid():
            try:
                services.act(application=application, user=signed_in_user(request),
                             action=form.action, comment=form.cleaned_data.get("comment", ""),
                             documents=form.documents())
            except SubmissionInvalid as exc:
                form.add_problems(exc.problems)
            except Forbidden as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                messages.success(request, _("Done: %(action)s.") % {"action": form.title})
                return redirect("portal:application", number=number)
    return _application_page(request, application, workflow, stop, asked,
                             list(action_forms.values()), status)


def _application_page(request: HttpRequest, application: Application, workflow: Workflow,
                      stop: ApplicationEvent | None, asked: list[str],
                      action_forms: list[ActionForm], status: int) -> HttpResponse:
    languages = application.country.languages
    language = get_language() or languages[0]
    events = [{
        "event": event,
        "action": _action_name(workflow, event, language, languages),
        "from_state": _state_name(workflow, event.from_state, language, languages)
        if event.from_state else "",
        "to_state": _state_name(workflow, event.to_state, language, languages),
    } for event in application.events.all()]
    documents = [{
        "document": document,
        "name": _("Result: %(result)s") % {
            "result": localize(application.standard.result, language, languages)}
        if document.kind == document.Kind.RESULT
        else document_label(application.standard, document.code, language, languages),
    } for document in application.documents.all()]
    refusal_ground = next((localize(g.get("text"), language, languages)
                           for g in application.standard.refusal_grounds
                           if g.get("code") == application.refusal_ground), "")
    return render(request, "applications/portal/application.html", {
        "application": application,
        "zone": application.country.time_zone,
        "service_name": localize(application.standard.name, language, languages),
        "agency_name": localize(application.agency.name, language, languages),
        "state_name": _state_name(workflow, application.state, language, languages),
        "left": timeleft.for_citizen(application, timezone.now()),
        "request_event": stop,
        "asked": [document_label(application.standard, c, language, languages) for c in asked],
        "action_forms": action_forms,
        "events": events,
        "documents": documents,
        "refusal_ground": refusal_ground,
        "access_code": services.access_code(application),
        "payment": application.payments.order_by("-paid_at", "-pk").first(),
        "result_name": localize(application.standard.result, language, languages),
        "drawn_up_result": selectors.result_drawn_up_by_system(application),
    }, status=status)


@citizen_required
@require_GET
def download_document(request: HttpRequest, number: str, document_id: int) -> FileResponse:
    application = _own(request, number)
    try:
        document = selectors.document(application, document_id)
    except NotFound:
        raise Http404("no such document") from None
    extension = mimetypes.guess_extension(document.content_type) or ""
    return FileResponse(document.file.open("rb"), as_attachment=True,
                        filename=f"{application.number}-{document.code}{extension}",
                        content_type=document.content_type)


@citizen_required
@require_GET
def result_document(request: HttpRequest, number: str) -> HttpResponse:
    """The electronic document of a result the system issued (an instant service)."""
    application = _own(request, number)
    if not selectors.result_drawn_up_by_system(application):
        raise Http404("no result document drawn up by onestop")
    return result_response(request, application, get_language() or
                           application.country.languages[0], "attachment")


def result_response(request: HttpRequest, application: Application, language: str,
                    disposition: str) -> HttpResponse:
    """The result document PDF of `application` (receipts.render_result), shown `inline`
    (to print at a counter) or as an `attachment`."""
    code = services.access_code(application)
    content = receipts.render_result(receipts.result_for(
        application, status_url=status_url(request, application, code), language=language))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'{disposition}; filename="result-{application.number}.pdf"')
    return response


def status_url(request: HttpRequest, application: Application, code: str) -> str:
    """The public status page of an application, with its access code, as an absolute URL."""
    path = reverse("portal:status_detail", args=[application.number])
    return request.build_absolute_uri(f"{path}?{urlencode({'code': code})}")


@citizen_required
@require_GET
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    """The application's receipt as a PDF, with a QR code of its status page."""
    return receipt_response(request, _own(request, number), "attachment")


def receipt_response(request: HttpRequest, application: Application,
                     disposition: str) -> HttpResponse:
    """The receipt PDF of `application` (shown `inline` or as an `attachment`)."""
    code = services.access_code(application)
    content = receipts.render(receipts.receipt_for(
        application, access_code=code, status_url=status_url(request, application, code),
        language=get_language() or application.country.languages[0],
    ))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'{disposition}; filename="receipt-{application.number}.pdf"')
    return response


# --- the public status check -----------------------------------------------------------


class StatusForm(forms.Form):
    label_suffix = ""
    number = forms.CharField(label=gettext_lazy("Application number"), max_length=32)
    code = forms.CharField(label=gettext_lazy("Access code"), max_length=32,
                           help_text=gettext_lazy("On the receipt of the application."))


@require_GET
def status_lookup(request: HttpRequest) -> HttpResponse:
    """A form for the number and the access code; sends them to the status page."""
    form = StatusForm(request.GET if request.GET else None)
    if form.is_valid():
        number = form.cleaned_data["number"].strip().upper()
        query = urlencode({"code": form.cleaned_data["code"].strip()})
        return redirect(f"{reverse('portal:status_detail', args=[number])}?{query}")
    return render(request, "applications/portal/status_lookup.html", {"form": form})


@require_GET
def status_detail(request: HttpRequest, number: str) -> HttpResponse:
    """State, deadline and agency of an application for whoever holds its number and access
    code; nothing personal. A wrong code reads exactly like an unknown number."""
    code = request.GET.get("code", "")
    application = selectors.get_public(number.strip().upper())
    if application is None or not code or not services.access_code_matches(application, code):
        form = StatusForm(initial={"number": number})
        return render(request, "applications/portal/status_unknown.html", {"form": form},
                      status=404)
    languages = application.country.languages
    language = get_language() or languages[0]
    workflow = services.workflow_of(application)
    return render(request, "applications/portal/status.html", {
        "application": application,
        "zone": application.country.time_zone,
        "service_name": localize(application.standard.name, language, languages),
        "agency_name": localize(application.agency.name, language, languages),
        "state_name": _state_name(workflow, application.state, language, languages),
    })
