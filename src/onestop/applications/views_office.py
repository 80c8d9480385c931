"""Staff pages of an agency's back office, working without JavaScript: the inbox, one
application, its workflow actions and assignment. A centre's counter (views_counter) shows
an application with the same page and actions.

Every write goes through `services.act` or `services.assign`; the pages only parse the
input, call one of them and show what it answered, per field.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from onestop.accounts.models import User
from onestop.accounts.roles import AGENCY_ROLES, Role
from onestop.applications import selectors, services, timeleft
from onestop.applications.errors import (
    ApplicationError,
    Conflict,
    Forbidden,
    NotFound,
    SubmissionInvalid,
)
from onestop.applications.forms import DocumentField, uploaded
from onestop.applications.models import Application, ApplicationDocument, ApplicationEvent
from onestop.applications.workflow import Action, NotPermitted, Workflow
from onestop.catalogue.models import Agency, Country, Service, ServiceStandard
from onestop.catalogue.selectors import agencies_in_scope, current_standard
from onestop.core.pages import error_page
from onestop.core.text import enum_titles, localize

PAGE_SIZE = 50
STATUS = {SubmissionInvalid: 422, Forbidden: 403, NotFound: 404, Conflict: 409}
DOCUMENT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ROLE_NAMES = {
    "citizen": gettext_lazy("citizen"), "operator": gettext_lazy("centre operator"),
    "officer": gettext_lazy("officer"), "supervisor": gettext_lazy("supervisor"),
    "controller": gettext_lazy("controller"), "analyst": gettext_lazy("analyst"),
    "admin": gettext_lazy("administrator"), "system": gettext_lazy("system"),
}
CHANNEL_NAMES = {
    "portal": gettext_lazy("on the portal"), "centre": gettext_lazy("at a one-stop-shop centre"),
    "api": gettext_lazy("through the API"), "proactive": gettext_lazy("proactively, by the state"),
    "open311": gettext_lazy("through Open311"), "govstack": gettext_lazy("through GovStack"),
}
View = Callable[..., HttpResponseBase]


# --- who may see which page ----------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)



def _for_roles(roles: Iterable[str], refusal: str | Promise) -> Callable[[View], View]:
    """Anonymous visitors sign in first; signed-in users of other roles get a 403 page."""
    allowed = frozenset(roles)

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if _user(request).role not in allowed:
                return error_page(request, refusal, 403)
            return view(request, *args, **kwargs)

        return login_required(guarded)

    return decorate


office_only = _for_roles(AGENCY_ROLES, gettext_lazy(
    "The back office is open to an agency's officers and supervisors only."))


def _text(value: Mapping[str, str] | None, country: Country) -> str:
    return localize(value, get_language() or "en", country.languages)


def _fit(form: forms.Form) -> None:
    """Keep every input within a phone's screen."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("style", "width:100%")
        elif not isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("style", "max-width:100%")


class StaffForm(forms.Form):
    """A form that fits a phone's screen (`_fit` it again after adding fields)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _fit(self)


class Workflows:
    """The workflows of the applications on one page, read once each."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], Workflow] = {}

    def of(self, application: Application) -> Workflow:
        key = (application.country_id, application.workflow)
        if key not in self._cache:
            self._cache[key] = services.workflow_of(application)
        return self._cache[key]


def _state_name(workflow: Workflow, code: str) -> Mapping[str, str]:
    state = workflow.states.get(code)
    return state.name if state is not None else {"en": code}


# --- the inbox ------------------------------------------------------------------------------


def _services_in_scope(user: User) -> list[Service]:
    """Services the user's agency may receive: those its units provide, and those its
    parents provide (routing hands them to the unit of the applicant's region)."""
    scope = set(agencies_in_scope(user).values_list("pk", flat=True))
    agency = user.agency
    while agency is not None:
        scope.add(agency.pk)
        agency = agency.parent
    return list(Service.objects.filter(provider_id__in=scope)
                .prefetch_related("versions").order_by("code"))


class InboxFilter(StaffForm):
    service = forms.ChoiceField(label=gettext_lazy("Service"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    overdue = forms.ChoiceField(label=gettext_lazy("Overdue"), required=False, choices=[
        ("", gettext_lazy("All")),
        ("yes", gettext_lazy("Overdue only")),
        ("no", gettext_lazy("Not overdue")),
    ])
    mine = forms.BooleanField(label=gettext_lazy("Assigned to me"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = cast(Agency, user.agency).country
        today = timezone.localdate(timezone=country.working_calendar().zone)
        choices: list[tuple[str, str]] = [("", _("All services"))]
        workflows: dict[str, Service] = {}
        for service in _services_in_scope(user):
            standard = current_standard(service, today)
            name = _text(standard.name, country) if standard else ""
            choices.append((service.code, f"{service.code} {name}".strip()))
            workflows.setdefault(service.workflow, service)
        states: dict[str, str] = {}
        for service in workflows.values():
            try:
                workflow = services.workflow_of(service)
            except NotFound:
                continue
            for state in workflow.states.values():
                if not state.terminal:
                    states.setdefault(state.code, _text(state.name, country))
        cast(forms.ChoiceField, self.fields["service"]).choices = choices
        cast(forms.ChoiceField, self.fields["state"]).choices = [
            ("", _("All states")), *sorted(states.items(), key=lambda item: item[1])]
        _fit(self)


@require_GET
@office_only
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = InboxFilter(request.GET or None, user=user)
    applications = Application.objects.none()
    if not filters.is_bound:
        applications = selectors.inbox(user)
    elif filters.is_valid():
        chosen = filters.cleaned_data
        applications = selectors.inbox(
            user, service=chosen["service"] or None, state=chosen["state"] or None,
            overdue={"yes": True, "no": False}.get(chosen["overdue"]), mine=chosen["mine"],
        )
    else:
        _mark_invalid(filters)
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    workflows = Workflows()
    rows = [{
        "application": application,
        "state": _state_name(workflows.of(application), application.state),
        "time_left": timeleft.for_staff(application, now),
    } for application in page]
    return render(request, "applications/office/inbox.html", {
        "filters": filters, "page": page, "rows": rows,
        "time_zone": cast(Agency, user.agency).country.time_zone,
    })


# --- the forms of the workflow's actions -----------------------------------------------------


@dataclass(frozen=True)
class ActionOptions:
    """What an application's action forms offer to choose from."""

    grounds: list[tuple[str, str]]
    documents: list[tuple[str, str]]
    agencies: list[tuple[str, str]]
    uploads: list[tuple[str, str]]

    @classmethod
    def of(cls, application: Application) -> ActionOptions:
        country = application.country
        standard = application.standard
        names = _document_names(standard)
        uploads = [d["code"] for d in standard.documents if d.get("source") == "applicant"]
        last_request = application.events.filter(clock="stop").order_by("-at", "-pk").first()
        if last_request is not None:
            uploads += [c for c in last_request.data.get("requested_documents", [])
                        if c not in uploads]
        return cls(
            grounds=[(g["code"], _text(g.get("text"), country))
                     for g in standard.refusal_grounds],
            documents=[(code, _text(name, country)) for code, name in names.items()],
            agencies=[(a.code, _text(a.name, country)) for a in
                      Agency.objects.filter(country=country).exclude(pk=application.agency_id)],
            uploads=[(code, _text(names.get(code), country) or code) for code in uploads],
        )


def _document_names(standard: ServiceStandard) -> dict[str, Mapping[str, str]]:
    return {d["code"]: d.get("name") or {"en": d["code"]} for d in standard.documents}


class WorkflowActionForm(StaffForm):
    """One workflow action with exactly the inputs it requires."""

    def __init__(self, *args: Any, action: Action, options: ActionOptions,
                 country: Country, **kwargs: Any) -> None:
        super().__init__(*args, prefix=action.code, **kwargs)
        self.action = action
        self.title = _text(action.name, country)
        needs = action.requires
        if "ground" in needs:
            self.fields["ground"] = forms.CharField(
                label=_("Ground for refusal (from the service's standard)"), max_length=64,
                widget=forms.Select(choices=[("", _("Choose a ground")), *options.grounds]))
        if "comment" in needs:
            self.fields["comment"] = forms.CharField(
                label=_("Written reason") if "ground" in needs else _("Comment"),
                max_length=5000, widget=forms.Textarea(attrs={"rows": 3, "cols": 40}))
        if "requested_documents" in needs:
            self.fields["requested_documents"] = forms.MultipleChoiceField(
                label=_("Documents to ask the applicant for"), required=False,
                choices=options.documents, widget=forms.CheckboxSelectMultiple)
            self.fields["other_documents"] = forms.CharField(
                label=_("Other documents (codes, separated by commas)"), required=False,
                max_length=500)
        if "agency" in needs:
            self.fields["agency"] = forms.CharField(
                label=_("Agency to ask"), max_length=32,
                widget=forms.Select(choices=[("", _("Choose an agency")), *options.agencies]))
        if "result_document" in needs:
            self.fields["result_document"] = DocumentField(
                label=_("Result document (PDF, JPEG or PNG)"))
        if "documents" in needs:
            for code, name in options.uploads:
                self.fields[f"document_{code}"] = DocumentField(label=name, required=False)
        _fit(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "requested_documents" in self.fields:
            other = [c.strip() for c in cleaned.get("other_documents", "").split(",")
                     if c.strip()]
            bad = [c for c in other if not DOCUMENT_CODE.match(c)]
            if bad:
                self.add_error("other_documents", _(
                    "A document code is letters, digits, dots, dashes and underscores: "
                    "%(codes)s") % {"codes": ", ".join(bad)})
            cleaned["requested"] = [*cleaned.get("requested_documents", []), *other]
            if not cleaned["requested"] and not bad:
                self.add_error("requested_documents", _("Choose at least one document."))
        if "documents" in self.action.requires and not self._attached(cleaned):
            self.add_error(None, _("Attach at least one document."))
        return cleaned

    def _attached(self, cleaned: Mapping[str, Any]) -> dict[str, UploadedFile]:
        return {name.removeprefix("document_"): cleaned[name] for name in self.fields
                if name.startswith("document_") and cleaned.get(name)}

    def inputs(self) -> dict[str, Any]:
        """The keyword arguments of services.act for what was entered."""
        data = self.cleaned_data
        result = data.get("result_document")
        return {
            "comment": data.get("comment", ""),
            "ground": data.get("ground", ""),
            "requested_documents": data.get("requested", []),
            "agency_code": data.get("agency", ""),
            "documents": [uploaded(code, upload)
                          for code, upload in self._attached(data).items()],
            "result_document": uploaded("result", result) if result else None,
        }

    def show_problems(self, problems: Mapping[str, list[str]]) -> None:
        for key, texts in problems.items():
            head, _dot, code = key.partition(".")
            field = f"document_{code}" if head == "documents" and code else key
            for text in texts:
                if field in self.fields:
                    self.add_error(field, text)
                else:
                    self.add_error(None, f"{key}: {text}")


def _mark_invalid(form: forms.Form) -> None:
    """Point each input with an error at its message, for screen readers."""
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}-errors"


class AssignForm(StaffForm):
    assignee = forms.CharField(label=gettext_lazy("Assign to"), required=False, max_length=20)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        officers = User.objects.filter(
            role__in=AGENCY_ROLES, agency__in=agencies_in_scope(user), is_active=True,
        ).order_by("username")
        self.fields["assignee"].widget = forms.Select(choices=[
            ("", _("Nobody (unassigned)")),
            *[(str(o.pk), f"{o.get_full_name() or o.username} ({ROLE_NAMES[o.role]})")
              for o in officers]])
        _fit(self)


# --- one application ------------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """Where staff open an application (the back office or a centre's counter): the
    names of its pages."""

    page: str
    act: str
    assign: str | None
    document: str
    # a result the system issued, drawn up to print (the counter); None: not offered
    result: str | None = None


OFFICE = Desk("office:application", "office:act", "office:assign", "office:document")


def _application_page(
    request: HttpRequest,
    application: Application,
    desk: Desk,
    *,
    failed: WorkflowActionForm | None = None,
    assign_form: AssignForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    country = application.country
    workflow = services.workflow_of(application)
    role = services.role_on(user, application)
    action_forms: list[WorkflowActionForm] = []
    if application.is_open:
        options = ActionOptions.of(application)
        for action in workflow.actions_for(application.state, role):
            if failed is not None and failed.action.code == action.code:
                action_forms.append(failed)
            else:
                action_forms.append(
                    WorkflowActionForm(action=action, options=options, country=country))
    can_assign = desk.assign is not None and application.is_open
    if can_assign and user.role == Role.SUPERVISOR and assign_form is None:
        assign_form = AssignForm(user=user, initial={
            "assignee": str(application.assigned_to_id or "")})
    names = _document_names(application.standard)
    return render(request, "applications/office/application.html", {
        "application": application,
        "act_url": reverse(desk.act, args=[application.number]),
        "result_url": reverse(desk.result, args=[application.number])
        if desk.result and selectors.result_drawn_up_by_system(application) else "",
        "assign_url": reverse(desk.assign, args=[application.number]) if can_assign else "",
        "assign_form": assign_form if user.role == Role.SUPERVISOR else None,
        "can_take": can_assign and user.role == Role.OFFICER
        and application.assigned_to_id is None,
        "state": _state_name(workflow, application.state),
        "channel": CHANNEL_NAMES.get(application.channel, application.channel),
        "time_left": timeleft.for_staff(application, timezone.now()),
        "national_id": _masked(application.applicant_national_id),
        "form_fields": _form_fields(application),
        "documents": [{
            "document": d, "name": names.get(d.code) or {"en": d.code},
            "url": reverse(desk.document, args=[application.number, d.pk]),
        } for d in application.documents.all()],
        "events": [_event_row(e, workflow, application) for e in
                   application.events.select_related("actor")],
        "action_forms": action_forms,
        "refusal_ground": next((g.get("text") for g in application.standard.refusal_grounds
                                if g["code"] == application.refusal_ground), None),
        "problem": problem,
    }, status=status)


def _masked(national_id: str) -> str:
    return "•" * max(len(national_id) - 4, 0) + national_id[-4:]


def _form_fields(application: Application) -> list[dict[str, Any]]:
    """The form's answers in the e-form's order, labelled by its titles."""
    properties: Mapping[str, Any] = (application.standard.eform or {}).get("properties", {})
    data = application.form_data if isinstance(application.form_data, dict) else {}
    names = [n for n in properties if n in data] + [n for n in data if n not in properties]
    language, fallbacks = get_language() or "en", application.country.languages
    rows = []
    for name in names:
        spec = properties.get(name, {})
        items = spec.get("items") if isinstance(spec.get("items"), Mapping) else {}
        titles = enum_titles(items if "x-enum-titles" in items else spec, language, fallbacks)
        value = data[name]
        if isinstance(value, bool):
            shown = _("yes") if value else _("no")
        elif isinstance(value, list):
            shown = ", ".join(titles.get(str(v), str(v)) for v in value)
        elif isinstance(value, dict):
            shown = json.dumps(value, ensure_ascii=False)
        else:
            shown = titles.get(str(value), str(value))
        rows.append({"label": spec.get("x-title") or {"en": spec.get("title") or name},
                     "value": shown})
    return rows


def _event_row(event: ApplicationEvent, workflow: Workflow,
               application: Application) -> dict[str, Any]:
    country = application.country
    # one code may name different steps of a multi-stage workflow: match the transition
    same_code = [a for a in workflow.actions if a.code == event.action]
    exact = [a for a in same_code if event.from_state in a.sources and a.target == event.to_state]
    action = next(iter(exact or same_code), None)
    details: list[str] = []
    data = event.data or {}
    if data.get("ground"):
        grounds = {g["code"]: g.get("text") for g in application.standard.refusal_grounds}
        details.append(_("Ground: %(ground)s")
                       % {"ground": _text(grounds.get(data["ground"]), country)
                          or data["ground"]})
    documents = _document_names(application.standard)
    for key, label in (("requested_documents", _("Requested: %(documents)s")),
                       ("documents", _("Documents: %(documents)s"))):
        if data.get(key):
            listed = ", ".join(_text(documents.get(c), country) or c for c in data[key])
            details.append(label % {"documents": listed})
    if data.get("agency"):
        details.append(_("Agency: %(agency)s") % {"agency": data["agency"]})
    if event.action == "assign":
        details.append(_("Assigned: %(before)s → %(after)s") % {
            "before": data.get("from") or _("nobody"), "after": data.get("to") or _("nobody")})
    if event.action == "submit" and data.get("channel"):
        details.append(str(CHANNEL_NAMES.get(data["channel"], data["channel"])))
    if event.clock == "stop":
        details.append(_("The clock stopped."))
    elif event.clock == "resume":
        details.append(_("The clock runs again."))
    return {
        "event": event,
        "action": _text(action.name, country) if action else {
            "submit": _("Submitted"), "assign": _("Assignment")}.get(event.action, event.action),
        "from_state": _state_name(workflow, event.from_state) if event.from_state else None,
        "to_state": _state_name(workflow, event.to_state),
        "actor": event.actor.username if event.actor else _("system"),
        "role": ROLE_NAMES.get(event.actor_role, event.actor_role),
        "details": details,
    }


def _visible_orerror_page(request: HttpRequest, number: str) -> Application | HttpResponse:
    try:
        return selectors.get_visible(_user(request), number)
    except NotFound:
        return error_page(request, _("No application with this number is open to you."), 404)


@require_GET
@office_only
def application_page(request: HttpRequest, number: str) -> HttpResponse:
    return _show(request, number, OFFICE)


def _show(request: HttpRequest, number: str, desk: Desk) -> HttpResponse:
    application = _visible_orerror_page(request, number)
    if isinstance(application, HttpResponse):
        return application
    return _application_page(request, application, desk)


@require_POST
@office_only
def act(request: HttpRequest, number: str) -> HttpResponse:
    return _act(request, number, OFFICE)


def _act(request: HttpRequest, number: str, desk: Desk) -> HttpResponse:
    application = _visible_orerror_page(request, number)
    if isinstance(application, HttpResponse):
        return application
    user = _user(request)
    code = request.POST.get("action", "")
    try:
        role = services.role_on(user, application)
        workflow = services.workflow_of(application)
        allowed = {a.code: a for a in workflow.actions_for(application.state, role)}
        if code not in allowed:
            # the workflow says why not (another user may have moved the application on)
            workflow.decide(application.state, code, role)
            raise Forbidden(_("This action cannot be taken now."))
    except NotPermitted as exc:
        return _application_page(request, application, desk, problem=services.refusal(exc),
                                 status=403)
    except ApplicationError as exc:
        return _application_page(request, application, desk, problem=str(exc),
                                 status=STATUS.get(type(exc), 400))
    form = WorkflowActionForm(request.POST, request.FILES, action=allowed[code],
                              options=ActionOptions.of(application),
                              country=application.country)
    if form.is_valid():
        try:
            services.act(application=application, user=user, action=code, **form.inputs())
        except SubmissionInvalid as exc:
            form.show_problems(exc.problems)
        except ApplicationError as exc:
            application.refresh_from_db()
            return _application_page(request, application, desk, problem=str(exc),
                                     status=STATUS.get(type(exc), 400))
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": form.title})
            return HttpResponseRedirect(reverse(desk.page, args=[number]))
    _mark_invalid(form)
    return _application_page(request, application, desk, failed=form, status=422)


@require_POST
@office_only
def assign(request: HttpRequest, number: str) -> HttpResponse:
    application = _visible_orerror_page(request, number)
    if isinstance(application, HttpResponse):
        return application
    user = _user(request)
    form = AssignForm(request.POST, user=user)
    if not form.is_valid():
        _mark_invalid(form)
        return _application_page(request, application, OFFICE, assign_form=form, status=422)
    chosen = form.cleaned_data["assignee"]
    assignee = None
    if chosen:
        assignee = User.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
        if assignee is None:
            form.add_error("assignee", _("No such officer."))
            _mark_invalid(form)
            return _application_page(request, application, OFFICE, assign_form=form,
                                     status=422)
    try:
        services.assign(application=application, user=user, assignee=assignee)
    except ApplicationError as exc:
        return _application_page(request, application, OFFICE, assign_form=form,
                                 problem=str(exc), status=STATUS.get(type(exc), 400))
    if assignee is None:
        messages.success(request, _("The application is unassigned."))
    else:
        messages.success(request, _("Assigned to %(user)s.") % {"user": assignee.username})
    return HttpResponseRedirect(reverse(OFFICE.page, args=[number]))


@require_GET
@office_only
def document(request: HttpRequest, number: str, document_id: int) -> HttpResponseBase:
    return _download(request, number, document_id)


def _download(request: HttpRequest, number: str, document_id: int) -> HttpResponseBase:
    application = _visible_orerror_page(request, number)
    if isinstance(application, HttpResponse):
        return application
    try:
        found: ApplicationDocument = selectors.document(application, document_id)
    except NotFound:
        return error_page(request, _("No such document in this application."), 404)
    extension = mimetypes.guess_extension(found.content_type) or ""
    return FileResponse(found.file.open("rb"), as_attachment=True,
                        filename=f"{number}-{found.code}{extension}",
                        content_type=found.content_type)
