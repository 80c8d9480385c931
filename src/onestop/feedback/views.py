"""Pages of ratings and complaints, working without JavaScript.

Citizens: rate a completed application (from the cabinet or a notification's link) or a
served ticket (from the QR code of its receipt, no account needed), file a complaint,
follow my complaints, withdraw one or take a decision to the control body. Staff: the
complaints inbox by deadline with its actions, and the low-rating alerts.

Each view parses the input, calls one service or selector and renders; a citizen sees only
their own (another's number is a 404), staff only their scope.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications.models import Application
from onestop.catalogue.models import Agency, Country
from onestop.centres.models import Centre
from onestop.core.context import current_country
from onestop.core.text import localize
from onestop.feedback import selectors, services
from onestop.feedback.errors import FeedbackError, Forbidden, NotFound, RatingChangeClosed
from onestop.feedback.models import Complaint, ComplaintDecision, FeedbackRules

View = Callable[..., HttpResponseBase]
PER_PAGE = 50
STAFF_READERS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.CONTROLLER, Role.ANALYST,
                           Role.ADMIN})
ALERT_READERS = frozenset({Role.SUPERVISOR, Role.CONTROLLER, Role.ANALYST, Role.ADMIN})
SCORES = [(str(n), str(n)) for n in range(5, 0, -1)]
DECISIONS = [
    (ComplaintDecision.UPHELD.value, gettext_lazy("upheld")),
    (ComplaintDecision.PARTLY_UPHELD.value, gettext_lazy("partly upheld")),
    (ComplaintDecision.REJECTED.value, gettext_lazy("rejected")),
]
STATE_NAMES = {
    "registered": gettext_lazy("registered"), "in_review": gettext_lazy("in review"),
    "decided": gettext_lazy("decided"), "escalated": gettext_lazy("sent to the control body"),
    "withdrawn": gettext_lazy("withdrawn"),
}
DECISION_NAMES = dict(DECISIONS)


# --- who may see a page ----------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _page_error(request: HttpRequest, message: Any, status: int) -> HttpResponse:
    return render(request, "feedback/error.html", {"message": message, "status": status},
                  status=status)


def _for_roles(roles: frozenset[Role], refusal: Any) -> Callable[[View], View]:
    """Anonymous visitors sign in first; signed-in users of other roles get a 403 page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if _user(request).role not in roles:
                return _page_error(request, refusal, 403)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


citizen_only = _for_roles(frozenset({Role.CITIZEN}), gettext_lazy(
    "This page is for citizens, with their own account."))
staff_only = _for_roles(STAFF_READERS, gettext_lazy(
    "Complaints are handled by an agency's officers and supervisors, a centre's manager "
    "and the control body."))
alerts_only = _for_roles(ALERT_READERS, gettext_lazy(
    "The alerts are for supervisors and the control body."))


def _language(country: Country) -> str:
    return get_language() or country.languages[0]


def _device(request: HttpRequest) -> str:
    seen = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


# --- forms ---------------------------------------------------------------------------


class RatingForm(forms.Form):
    """One radio group per criterion of the pack, and an optional comment."""

    comment = forms.CharField(label=gettext_lazy("Comment (optional)"), required=False,
                              max_length=services.MAX_COMMENT, widget=forms.Textarea(
                                  attrs={"rows": 4}))

    def __init__(self, *args: Any, rules: FeedbackRules, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fallbacks = rules.country.languages
        self.codes = [str(c["code"]) for c in rules.criteria]
        for criterion in rules.criteria:
            self.fields[f"score_{criterion['code']}"] = forms.TypedChoiceField(
                label=localize(criterion.get("name"), language, fallbacks) or criterion["code"],
                choices=SCORES, coerce=int, widget=forms.RadioSelect,
                help_text=_("5 is best, 1 is worst"),
            )
        self.order_fields([f"score_{c}" for c in self.codes] + ["comment"])

    def scores(self) -> dict[str, int]:
        return {code: self.cleaned_data[f"score_{code}"] for code in self.codes}


def _rating_initial(rating: Any) -> dict[str, Any]:
    if rating is None:
        return {}
    return {"comment": rating.comment,
            **{f"score_{code}": str(value) for code, value in rating.scores.items()}}


def _rate(request: HttpRequest, *, country: Country, title: str, existing: Any,
          rate: Callable[[RatingForm], Any], done: str) -> HttpResponse:
    try:
        rules = selectors.rules_for(country)
    except NotFound as exc:
        return _page_error(request, str(exc), 404)
    language = _language(country)
    form = RatingForm(request.POST if request.method == "POST" else None,
                      initial=_rating_initial(existing), rules=rules, language=language)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                rate(form)
            except FeedbackError as exc:
                form.add_error(None, str(exc))
                status = 409 if isinstance(exc, RatingChangeClosed) else 422
            else:
                messages.success(request, _("Thank you: your rating is saved."))
                return redirect(done)
    return render(request, "feedback/rate.html", {
        "form": form, "title": title, "existing": existing, "rules": rules,
    }, status=status)


# --- citizens: ratings -------------------------------------------------------------------


@citizen_only
@require_http_methods(["GET", "POST"])
def rate_application(request: HttpRequest, number: str) -> HttpResponse:
    """Rate one of my completed applications on the pack's criteria."""
    user = _user(request)
    application = Application.objects.select_related("country", "standard").filter(
        number=number, applicant=user).first()
    if application is None:
        raise Http404("no such application")
    if application.outcome not in selectors.RATED_OUTCOMES:
        return _page_error(request, _("An application is rated once it is completed."), 409)
    languages = application.country.languages
    name = localize(application.standard.name, _language(application.country), languages)
    existing = application.ratings.first()
    channel = "notification" if request.GET.get("from") == "notification" else "portal"
    return _rate(
        request, country=application.country,
        title=_("Rate “%(service)s” (application %(number)s)") % {
            "service": name, "number": number},
        existing=existing,
        rate=lambda form: services.rate(
            citizen=user, application=application, scores=form.scores(),
            comment=form.cleaned_data["comment"], channel=channel, device=_device(request)),
        done=reverse("portal:application", args=[number]),
    )


@require_http_methods(["GET", "POST"])
def rate_ticket(request: HttpRequest, token: str) -> HttpResponse:
    """Rate a visit to a centre from the QR code of the ticket's receipt: no account
    needed (a signed-in citizen's rating is kept with their account)."""
    try:
        ticket = services.ticket_for_token(token)
    except NotFound as exc:
        return _page_error(request, str(exc), 404)
    user = _user(request) if request.user.is_authenticated else None
    citizen = user if user is not None and user.role == Role.CITIZEN else None
    centre_name = localize(ticket.centre.name, _language(ticket.centre.country),
                           ticket.centre.country.languages)
    return _rate(
        request, country=ticket.centre.country,
        title=_("Rate your visit to %(centre)s (ticket %(number)s)") % {
            "centre": centre_name, "number": ticket.number},
        existing=ticket.ratings.first(),
        rate=lambda form: services.rate(
            citizen=citizen, ticket_token=token, scores=form.scores(),
            comment=form.cleaned_data["comment"], channel="receipt", device=_device(request)),
        done=request.path,
    )


# --- citizens: complaints ------------------------------------------------------------------


class ComplaintForm(forms.Form):
    ground = forms.ChoiceField(label=gettext_lazy("Ground"))
    target = forms.ChoiceField(label=gettext_lazy("About"), required=False)
    text = forms.CharField(label=gettext_lazy("What happened"), max_length=services.MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: Any, grounds: list[tuple[str, str]],
                 targets: list[tuple[str, str]] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["ground"]).choices = grounds
        if targets is None:
            del self.fields["target"]
        else:
            cast(forms.ChoiceField, self.fields["target"]).choices = targets
            self.fields["target"].required = True


def _grounds(rules: FeedbackRules, subject: str, language: str) -> list[tuple[str, str]]:
    fallbacks = rules.country.languages
    return [(str(g["code"]), localize(g.get("name"), language, fallbacks) or str(g["code"]))
            for g in rules.grounds if subject in g.get("subjects", [])]


@citizen_only
@require_http_methods(["GET", "POST"])
def new_complaint(request: HttpRequest) -> HttpResponse:
    """File a complaint: about one of my applications (`?application=NUMBER`, the link on
    its page), or about an agency or a centre (`?subject=agency|centre`)."""
    user = _user(request)
    number = request.GET.get("application", "")
    subject = "application" if number else request.GET.get("subject", "centre")
    application: Application | None = None
    if number:
        application = Application.objects.select_related("country", "standard").filter(
            number=number, applicant=user).first()
        if application is None:
            raise Http404("no such application")
        country = application.country
    elif subject in ("agency", "centre"):
        chosen = current_country(request)
        if chosen is None:
            return _page_error(request, _("No country is loaded yet."), 404)
        country = chosen
    else:
        raise Http404("no such subject")
    try:
        rules = selectors.rules_for(country)
    except NotFound as exc:
        return _page_error(request, str(exc), 404)
    language = _language(country)
    targets: list[tuple[str, str]] | None = None
    if subject == "agency":
        targets = [(a.code, localize(a.name, language, country.languages))
                   for a in Agency.objects.filter(country=country).order_by("code")]
    elif subject == "centre":
        targets = [(c.code, localize(c.name, language, country.languages))
                   for c in Centre.objects.filter(country=country).order_by("code")]
    grounds = _grounds(rules, subject, language)
    form = ComplaintForm(request.POST if request.method == "POST" else None,
                         grounds=grounds, targets=targets)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            target = form.cleaned_data.get("target", "")
            try:
                complaint = services.file_complaint(
                    citizen=user, subject=subject, ground=form.cleaned_data["ground"],
                    text=form.cleaned_data["text"], application=application,
                    agency=Agency.objects.filter(country=country, code=target).first()
                    if subject == "agency" else None,
                    centre=Centre.objects.filter(country=country, code=target).first()
                    if subject == "centre" else None,
                    country=country,
                )
            except FeedbackError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Your complaint %(number)s is registered.") % {
                    "number": complaint.number})
                return redirect("feedback:complaint", number=complaint.number)
    return render(request, "feedback/complaint_new.html", {
        "form": form, "application": application, "subject": subject,
        "anonymous_allowed": rules.anonymous_complaints,
    }, status=status)


def _row(complaint: Complaint, language: str) -> dict[str, Any]:
    rules = selectors.rules_for(complaint.country)
    return {
        "complaint": complaint,
        "zone": complaint.country.time_zone,
        "ground": localize(selectors.ground_name(rules, complaint.ground), language,
                           complaint.country.languages),
        "state": STATE_NAMES.get(complaint.state, complaint.state),
        "decision": DECISION_NAMES.get(complaint.decision, ""),
        "deadline": complaint.extended_to or complaint.deadline_at,
        "overdue": complaint.state in selectors.OPEN_STATES
        and (complaint.extended_to or complaint.deadline_at) < timezone.now(),
    }


@citizen_only
@require_GET
def my_complaints(request: HttpRequest) -> HttpResponse:
    """My complaints, the newest first, with their state and deadline."""
    user = _user(request)
    complaints = selectors.visible_complaints(user).order_by("-registered_at", "-pk")
    page = Paginator(complaints, PER_PAGE).get_page(request.GET.get("page"))
    language = get_language() or "en"
    return render(request, "feedback/my_complaints.html", {
        "rows": [_row(c, language) for c in page], "page": page,
    })


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why you disagree (optional)"),
                             required=False, max_length=services.MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 3}))


@citizen_only
@require_http_methods(["GET", "POST"])
def complaint_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One of my complaints: its history, deadline and decision; withdraw it while it is
    open, or take the provider's decision to the control body."""
    user = _user(request)
    try:
        complaint = selectors.get_complaint(user, number)
    except NotFound:
        raise Http404("no such complaint") from None
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "withdraw":
                services.withdraw(complaint=complaint, citizen=user)
                messages.success(request, _("Your complaint is withdrawn."))
                return redirect("feedback:complaint", number=number)
            if action == "disagree" and form.is_valid():
                upper = services.disagree(complaint=complaint, citizen=user,
                                          reason=form.cleaned_data["reason"])
                messages.success(request, _("Your complaint goes to the control body as "
                                            "%(number)s.") % {"number": upper.number})
                return redirect("feedback:complaint", number=upper.number)
            form.add_error(None, _("This cannot be done on the complaint now."))
            status = 422
        except FeedbackError as exc:
            form.add_error(None, str(exc))
            status = 409
    language = get_language() or complaint.country.languages[0]
    return render(request, "feedback/complaint.html", {
        **_row(complaint, language),
        "events": complaint.events.all(),
        "escalation": Complaint.objects.filter(escalated_from=complaint).first(),
        "can_withdraw": complaint.state in selectors.OPEN_STATES,
        "can_disagree": complaint.level == "provider" and complaint.state == "decided",
        "form": form,
    }, status=status)


# --- staff ---------------------------------------------------------------------------


@staff_only
@require_GET
def office_complaints(request: HttpRequest) -> HttpResponse:
    """The open complaints in my scope, the nearest deadline first."""
    user = _user(request)
    show_all = request.GET.get("all") == "1"
    complaints = selectors.complaints_inbox(user, open_only=not show_all)
    page = Paginator(complaints, PER_PAGE).get_page(request.GET.get("page"))
    language = get_language() or "en"
    return render(request, "feedback/office_complaints.html", {
        "rows": [_row(c, language) for c in page], "page": page, "show_all": show_all,
    })


class AssignForm(forms.Form):
    handler = forms.ModelChoiceField(label=gettext_lazy("Handler"), queryset=User.objects.none(),
                                     to_field_name="username")


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Extend by (days)"), min_value=1,
                              max_value=3650)
    reason = forms.CharField(label=gettext_lazy("Reason (the citizen is told)"),
                             max_length=services.MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 3}))


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=DECISIONS,
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label=gettext_lazy("Reasons"), max_length=services.MAX_TEXT,
                             widget=forms.Textarea(attrs={"rows": 5}))


def _handlers(complaint: Complaint) -> Any:
    """The users who may handle the complaint (for the assign form)."""
    if complaint.level == "control":
        return User.objects.filter(role=Role.CONTROLLER, is_active=True).order_by("username")
    who = Q(pk__in=[])
    if complaint.agency_id is not None:
        who |= Q(role__in=[Role.OFFICER, Role.SUPERVISOR],
                 agency_id__in=selectors.agency_and_parents(complaint.agency_id))
    if complaint.centre_id is not None and complaint.subject in ("centre", "operator"):
        who |= Q(role=Role.SUPERVISOR, centre_id=complaint.centre_id)
    candidates = User.objects.filter(who, is_active=True)
    if complaint.staff_id is not None:
        candidates = candidates.exclude(pk=complaint.staff_id)
    return candidates.order_by("username")


@staff_only
@require_http_methods(["GET", "POST"])
def office_complaint(request: HttpRequest, number: str) -> HttpResponse:
    """One complaint in my scope, with the actions I may take on it."""
    user = _user(request)
    try:
        complaint = selectors.get_complaint(user, number)
    except NotFound:
        return _page_error(request, _("No such complaint in your scope."), 404)
    may = complaint.state in selectors.OPEN_STATES and services.may_handle(user, complaint)
    posted = request.POST if request.method == "POST" else None
    action = request.POST.get("action", "") if posted else ""
    assign_form = AssignForm(posted if action == "assign" else None, prefix="assign")
    assign_form.fields["handler"].queryset = _handlers(complaint) if may else User.objects.none()  # type: ignore[attr-defined]
    extend_form = ExtendForm(posted if action == "extend" else None, prefix="extend")
    decide_form = DecideForm(posted if action == "decide" else None, prefix="decide")
    status = 200
    if posted is not None:
        status = 422
        form = {"assign": assign_form, "extend": extend_form, "decide": decide_form}.get(action)
        if form is None or not may:
            return _page_error(request, _("You may not act on this complaint now."), 403)
        if form.is_valid():
            try:
                if action == "assign":
                    services.assign(complaint=complaint, user=user,
                                    handler=form.cleaned_data["handler"])
                elif action == "extend":
                    services.extend(complaint=complaint, user=user,
                                    reason=form.cleaned_data["reason"],
                                    days=form.cleaned_data["days"])
                else:
                    services.decide(complaint=complaint, user=user,
                                    decision=form.cleaned_data["decision"],
                                    reason=form.cleaned_data["reason"])
            except Forbidden as exc:
                form.add_error(None, str(exc))
                status = 403
            except FeedbackError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Done."))
                return redirect("feedback:office_complaint", number=number)
    language = get_language() or complaint.country.languages[0]
    return render(request, "feedback/office_complaint.html", {
        **_row(complaint, language),
        "events": complaint.events.select_related("actor"),
        "escalation": Complaint.objects.filter(escalated_from=complaint).first(),
        "may": may,
        "assign_form": assign_form, "extend_form": extend_form, "decide_form": decide_form,
        "max_extension_days": selectors.rules_for(complaint.country).max_extension_days,
    }, status=status)


@alerts_only
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    """Low ratings in my scope, the newest first: each a signal to look at."""
    user = _user(request)
    page = Paginator(selectors.alerts(user), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "feedback/alerts.html", {"page": page, "rows": list(page)})
