"""Pages of a centre: the kiosk where citizens take a ticket, the display board that calls
them, and the operator desk where the queue is worked.

The kiosk and the board are public devices: no sign-in, and nothing on them or in their
JSON names a person (only ticket and counter numbers, service groups and times). The desk
is for the operators of the centre. Every change goes through `centres.services`; the
pages parse the input, call one service and show what it answered.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.catalogue.models import Country
from onestop.catalogue.selectors import local_today, national_id_label
from onestop.centres import appointments, selectors, services, stats
from onestop.centres.models import (
    Centre,
    Counter,
    PriorityCategory,
    ServiceGroup,
    Ticket,
    TicketSlice,
    TicketSource,
    TicketState,
)
from onestop.core.context import current_country
from onestop.core.text import localize

View = Callable[..., HttpResponseBase]
STATUS = {services.NotAllowed: 403, services.NotFound: 404, services.Conflict: 409}
# A kiosk issues a few tickets a minute; a script pressing its buttons is stopped here.
KIOSK_TICKETS_PER_MINUTE = 30
# The kiosk's ticket page is reachable by its signed link for the rest of the day only.
TICKET_LINK_MAX_AGE = 12 * 3600
TICKET_LINK_SALT = "onestop.centres.kiosk-ticket"
# Seconds between two reloads of the board when the browser runs no JavaScript.
BOARD_REFRESH_SECONDS = 2
QUEUE_PREVIEW = 5


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _error(request: HttpRequest, message: str | Promise, status: int,
           centre: Centre | None = None) -> HttpResponse:
    context: dict[str, Any] = {"message": message, "status": status}
    if centre is not None:
        context["country"] = centre.country
    return render(request, "centres/error.html", context, status=status)


def _text(value: Any, centre: Centre) -> str:
    return localize(value, get_language() or "en", centre.country.languages)


# --- which centre a public page is for ------------------------------------------------------


def _find_centre(request: HttpRequest, code: str) -> Centre | HttpResponse:
    """The centre with this code: `?country=` chooses between countries that both have
    one; without it the country being shown wins."""
    centres = Centre.objects.select_related("country").filter(code=code)
    wanted = request.GET.get("country", "")
    if wanted:
        centres = centres.filter(country__code=wanted)
    found = list(centres[:10])
    if len(found) > 1:
        shown = current_country(request)
        found = [c for c in found if shown is not None and c.country_id == shown.pk]
    if len(found) != 1:
        return _error(request, _("There is no centre with this code."), 404)
    return found[0]


def _centre_query(request: HttpRequest) -> str:
    """The `?country=` of the page, kept in the links and forms it leads to."""
    wanted = request.GET.get("country", "")
    return f"?country={wanted}" if wanted.isalnum() else ""


def _public(view: Callable[..., HttpResponseBase]) -> View:
    """A page of a centre's public device: the centre is looked up from its code."""

    @wraps(view)
    def page(request: HttpRequest, code: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        centre = _find_centre(request, code)
        if isinstance(centre, HttpResponse):
            return centre
        return view(request, centre, *args, **kwargs)

    return page


# --- the kiosk ------------------------------------------------------------------------------


def _kiosk_groups(centre: Centre) -> list[ServiceGroup]:
    """The groups that an open counter of the centre serves: no ticket for a queue that
    no counter would ever call."""
    return list(ServiceGroup.objects.filter(counters__centre=centre, counters__active=True)
                .distinct().order_by("position", "code"))


class TicketForm(forms.Form):
    group = forms.ChoiceField(label=gettext_lazy("Service"))
    priority = forms.ChoiceField(label=gettext_lazy("Priority service"), required=False)

    def __init__(self, *args: Any, centre: Centre, groups: list[ServiceGroup],
                 priorities: list[PriorityCategory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["group"]).choices = [
            (g.code, _text(g.name, centre)) for g in groups]
        cast(forms.ChoiceField, self.fields["priority"]).choices = [
            ("", _("No")), *((p.code, _text(p.name, centre)) for p in priorities)]


class AppointmentForm(forms.Form):
    # typed in any case, with spaces or dashes: `appointments.arrive` reads it
    code = forms.CharField(label=gettext_lazy("Appointment code"), max_length=32)


def _too_many_tickets(request: HttpRequest) -> bool:
    """Count this address's tickets in the current minute (in the cache: per process
    with the default local-memory cache, across processes with a shared one)."""
    minute = timezone.now().strftime("%Y%m%d%H%M")
    key = f"onestop.centres.kiosk:{request.META.get('REMOTE_ADDR', '')}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) > KIOSK_TICKETS_PER_MINUTE
    except ValueError:  # the entry expired between add and incr
        return False


def _ticket_link(request: HttpRequest, ticket: Ticket) -> str:
    token = signing.dumps(ticket.pk, salt=TICKET_LINK_SALT)
    path = reverse("centres:kiosk_ticket", args=[ticket.centre.code, token])
    return path + _centre_query(request)


@require_http_methods(["GET", "POST"])
@_public
def kiosk(request: HttpRequest, centre: Centre) -> HttpResponse:
    groups = _kiosk_groups(centre)
    priorities = list(PriorityCategory.objects.filter(country=centre.country))
    options: dict[str, Any] = {"centre": centre, "groups": groups, "priorities": priorities}
    take = TicketForm(**options)
    booked = AppointmentForm()
    problem = ""
    status = 200
    if request.method == "POST":
        if _too_many_tickets(request):
            return _error(request, _("Too many tickets were taken from this device: please "
                                     "wait a minute."), 429, centre)
        ticket: Ticket | None = None
        try:
            if "code" in request.POST:
                booked = AppointmentForm(request.POST)
                if booked.is_valid():
                    ticket = appointments.arrive(centre=centre, code=booked.cleaned_data["code"])
            else:
                take = TicketForm(request.POST, **options)
                if take.is_valid():
                    chosen = take.cleaned_data
                    ticket = services.take_ticket(
                        centre=centre, group=next(g for g in groups if g.code == chosen["group"]),
                        source=TicketSource.KIOSK,
                        priority=next((p for p in priorities if p.code == chosen["priority"]),
                                      None),
                    )
        except services.QueueError as exc:
            problem, status = str(exc), STATUS.get(type(exc), 400)
        else:
            if ticket is not None:
                return HttpResponseRedirect(_ticket_link(request, ticket))
            status = 422
    return render(request, "centres/kiosk.html", {
        "centre": centre, "country": centre.country, "take": take, "booked": booked,
        "groups": groups, "priorities": priorities, "problem": problem,
        "query": _centre_query(request),
    }, status=status)


def _wait_for(ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    """People ahead of the ticket, and the expected wait for them to be served (the
    statistics' `N * S / c` with N the people ahead; None while no counter of the group
    is open)."""
    ahead = selectors.position(ticket, now)
    live = next((g for g in stats.centre_live(ticket.centre, now).groups
                 if g.group.pk == ticket.group_id), None)
    seconds = replace(live, waiting=ahead).expected_wait_seconds if live else None
    return {"ahead": ahead,
            "minutes": None if seconds is None else math.ceil(seconds / 60)}


@require_GET
@never_cache
@_public
def kiosk_ticket(request: HttpRequest, centre: Centre, token: str) -> HttpResponse:
    try:
        pk = signing.loads(token, salt=TICKET_LINK_SALT, max_age=TICKET_LINK_MAX_AGE)
    except signing.BadSignature:
        return _error(request, _("This ticket link is not valid."), 404, centre)
    ticket = (Ticket.objects.select_related("group", "priority", "centre__country")
              .filter(pk=pk, centre=centre).first())
    if ticket is None:
        return _error(request, _("This ticket link is not valid."), 404, centre)
    now = timezone.now()
    return render(request, "centres/kiosk_ticket.html", {
        "centre": centre, "country": centre.country, "ticket": ticket,
        "wait": _wait_for(ticket, now) if ticket.state == TicketState.WAITING else None,
        "kiosk_url": reverse("centres:kiosk", args=[centre.code]) + _centre_query(request),
    })


# --- the display board ----------------------------------------------------------------------


def _announcements(centre: Centre) -> list[dict[str, str]]:
    """The sentence that calls a ticket, in each of the country's languages in turn."""
    sentences = []
    for language in centre.country.languages:
        with translation.override(language):
            sentences.append({"language": language, "text": pgettext(
                "spoken on the display board", "Ticket %(number)s, counter %(counter)s")})
    return sentences


@require_GET
@never_cache
@_public
def board(request: HttpRequest, centre: Centre) -> HttpResponse:
    calls = selectors.board_calls(centre, timezone.now())
    config = {
        "poll": reverse("centres:board_json", args=[centre.code]) + _centre_query(request),
        "interval": 1000,
        "announcements": _announcements(centre),
    }
    return render(request, "centres/board.html", {
        "centre": centre, "country": centre.country, "calls": calls,
        "current": calls[0] if calls else None, "config": config,
        "refresh": BOARD_REFRESH_SECONDS,
    })


@require_GET
@never_cache
@_public
def board_json(request: HttpRequest, centre: Centre) -> JsonResponse:
    """The board's data, polled every second: ticket and counter numbers with call times."""
    now = timezone.now()
    return JsonResponse({"centre": centre.code, "at": now.isoformat(),
                         "calls": selectors.board_calls(centre, now)})


# --- the operator desk ----------------------------------------------------------------------


def operator_only(view: View) -> View:
    """Anonymous visitors sign in first; anyone but an operator of a centre gets a 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = _user(request)
        if user.role != Role.OPERATOR or user.centre_id is None:
            return _error(request, _("The operator desk is open to the operators of a "
                                     "one-stop-shop centre only."), 403)
        return view(request, *args, **kwargs)

    return login_required(guarded)


class OpenCounterForm(forms.Form):
    counter = forms.TypedChoiceField(label=gettext_lazy("Counter number"), coerce=int)

    def __init__(self, *args: Any, centre: Centre, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = centre.counter_set.filter(active=True).values_list("number", flat=True)
        cast(forms.ChoiceField, self.fields["counter"]).choices = [(n, n) for n in numbers]


class CallNumberForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Ticket number"), max_length=16)
    reason = forms.CharField(
        label=gettext_lazy("Reason (required when the ticket jumps the queue)"),
        max_length=300, required=False)

    def clean_number(self) -> str:
        return cast(str, self.cleaned_data["number"]).strip().upper()


class RedirectForm(forms.Form):
    to_counter = forms.TypedChoiceField(label=gettext_lazy("To counter"), coerce=int,
                                        required=False, empty_value=None)
    to_group = forms.ChoiceField(label=gettext_lazy("Or to the queue"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)

    def __init__(self, *args: Any, centre: Centre, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = centre.counter_set.filter(active=True).values_list("number", flat=True)
        cast(forms.ChoiceField, self.fields["to_counter"]).choices = [
            ("", "—"), *((n, n) for n in numbers)]
        cast(forms.ChoiceField, self.fields["to_group"]).choices = [
            ("", "—"), *((g.code, f"{g.code} {_text(g.name, centre)}")
                         for g in ServiceGroup.objects.filter(country=centre.country))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("to_counter") is None) == (not data.get("to_group")):
            raise forms.ValidationError(_("Choose either a counter or a queue."))
        return data


class IdentifyForm(forms.Form):
    national_id = forms.CharField(label=gettext_lazy("National ID number"), max_length=32)

    def __init__(self, *args: Any, country: Country, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["national_id"].label = national_id_label(country)


def _mark_invalid(form: forms.Form) -> None:
    """Point each input with an error at its message, for screen readers."""
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}-errors"


def _elapsed(since: dt.datetime, now: dt.datetime) -> str:
    seconds = max(int((now - since).total_seconds()), 0)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}"


def _queue(centre: Centre, counter: Counter | None, now: dt.datetime) -> dict[str, Any]:
    """Waiting tickets per group of the counter (of the centre without one) and the next
    few that the counter would call."""
    live = stats.centre_live(centre, now).groups
    if counter is not None:
        served = set(counter.groups.values_list("pk", flat=True))
        live = [g for g in live if g.group.pk in served]
    upcoming: list[Ticket] = []
    if counter is not None:
        upcoming = list(selectors.callable_by(counter).order_by(*selectors.call_order(now))
                        [:QUEUE_PREVIEW])
    return {
        "groups": [{"group": g.group, "name": _text(g.group.name, centre),
                    "waiting": g.waiting} for g in live],
        "upcoming": upcoming,
    }


def _desk_page(request: HttpRequest, *, problem: str = "", status: int = 200,
               **forms_: forms.Form) -> HttpResponse:
    user = _user(request)
    centre = cast(Centre, user.centre)
    now = timezone.now()
    session = selectors.open_session(user)
    ticket = selectors.current_ticket(user)
    slice_ = (TicketSlice.objects.filter(ticket=ticket, ended_at__isnull=True).first()
              if ticket is not None else None)
    for form in forms_.values():
        if form.is_bound:
            _mark_invalid(form)
    context: dict[str, Any] = {
        "centre": centre, "country": centre.country, "session": session, "ticket": ticket,
        "state": TicketState(ticket.state).label if ticket else "",
        "since": slice_.started_at if slice_ else None,
        "elapsed": _elapsed(slice_.started_at, now) if slice_ else "",
        "applications": list(ticket.applications.values_list("number", flat=True))
        if ticket else [],
        "queue": _queue(centre, session.counter if session else None, now),
        "on_hold": list(Ticket.objects.filter(
            centre=centre, operator=user, state=TicketState.ON_HOLD,
            day=local_today(centre.country, now)).order_by("place_at", "pk")),
        "problem": problem,
        "open_form": OpenCounterForm(centre=centre),
        "call_form": CallNumberForm(),
        "redirect_form": RedirectForm(centre=centre),
        "identify_form": IdentifyForm(country=centre.country),
        "time_zone": centre.country.time_zone,
    }
    context.update(forms_)
    return render(request, "centres/desk.html", context, status=status)


@require_GET
@operator_only
def desk(request: HttpRequest) -> HttpResponse:
    return _desk_page(request)


def _call_next(request: HttpRequest, operator: User) -> str:
    ticket = services.call_next(operator=operator)
    if ticket is None:
        return _("No one is waiting for your counter.")
    return _("Called %(number)s.") % {"number": ticket.number}


def _simple(action: Callable[..., Ticket], done: str | Promise) -> Callable[..., str]:
    def run(request: HttpRequest, operator: User) -> str:
        ticket = action(operator=operator)
        return str(done) % {"number": ticket.number}

    return run


SIMPLE_ACTIONS: dict[str, Callable[[HttpRequest, User], str]] = {
    "call-next": _call_next,
    "recall": _simple(services.recall, gettext_lazy("Called %(number)s again.")),
    "start": _simple(services.start_serving, gettext_lazy("Serving %(number)s.")),
    "hold": _simple(services.hold, gettext_lazy("%(number)s is on hold.")),
    "no-show": _simple(services.no_show, gettext_lazy("%(number)s did not come.")),
    "finish": _simple(services.finish, gettext_lazy("%(number)s is served.")),
}


@require_POST
@operator_only
def desk_act(request: HttpRequest, action: str) -> HttpResponse:
    """One action of the desk: a service call, its answer shown as a message."""
    operator = _user(request)
    centre = cast(Centre, operator.centre)
    form: forms.Form | None = None
    try:
        if action in SIMPLE_ACTIONS:
            done = SIMPLE_ACTIONS[action](request, operator)
        elif action == "open":
            form = OpenCounterForm(request.POST, centre=centre)
            if not form.is_valid():
                return _desk_page(request, status=422, open_form=form)
            session = services.open_counter(operator=operator,
                                            counter_number=form.cleaned_data["counter"])
            done = _("Counter %(number)s is open.") % {"number": session.counter.number}
        elif action == "close":
            session = services.close_counter(operator=operator)
            done = _("Counter %(number)s is closed.") % {"number": session.counter.number}
        elif action == "call-number":
            form = CallNumberForm(request.POST)
            if not form.is_valid():
                return _desk_page(request, status=422, call_form=form)
            ticket = services.call_by_number(operator=operator, **form.cleaned_data)
            done = _("Called %(number)s.") % {"number": ticket.number}
        elif action == "redirect":
            form = RedirectForm(request.POST, centre=centre)
            if not form.is_valid():
                return _desk_page(request, status=422, redirect_form=form)
            data = form.cleaned_data
            before = selectors.current_ticket(operator)
            ticket = services.redirect(
                operator=operator, reason=data["reason"],
                to_counter=centre.counter_set.filter(number=data["to_counter"]).first()
                if data["to_counter"] is not None else None,
                to_group=ServiceGroup.objects.filter(country=centre.country,
                                                     code=data["to_group"]).first()
                if data["to_group"] else None,
            )
            if ticket.target_counter is not None:
                done = _("%(number)s is sent to counter %(counter)s.") % {
                    "number": ticket.number, "counter": ticket.target_counter.number}
            else:
                done = _("%(old)s is sent to the queue %(group)s as %(number)s.") % {
                    "old": before.number if before else "", "group": ticket.group.code,
                    "number": ticket.number}
        elif action == "identify":
            form = IdentifyForm(request.POST, country=centre.country)
            if not form.is_valid():
                return _desk_page(request, status=422, identify_form=form)
            ticket = services.identify(operator=operator,
                                       national_id=form.cleaned_data["national_id"].strip())
            done = _("The citizen of %(number)s is identified.") % {"number": ticket.number}
        else:
            return _error(request, _("The desk has no such action."), 404)
    except services.QueueError as exc:
        return _desk_page(request, problem=str(exc), status=STATUS.get(type(exc), 400))
    messages.success(request, done)
    return HttpResponseRedirect(reverse("centres:desk"))
