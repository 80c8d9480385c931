"""The citizen's appointment pages: my appointments (cancel), book a new one step by step
(region, centre, group and day, a free slot), and an appointment's confirmation.

Every page works without JavaScript: each step is a GET form that narrows the next
one's choices; booking is a POST. Pages are for a signed-in citizen and show only their
own appointments (another's code is a 404, as if it did not exist).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onestop.catalogue.models import Country, Region
from onestop.catalogue.selectors import calendar_for
from onestop.centres import appointments
from onestop.centres.models import Appointment, AppointmentState, Centre, ServiceGroup
from onestop.centres.services import Conflict, NotFound, QueueError
from onestop.core.citizen_pages import citizen_required, signed_in_user
from onestop.core.context import current_country
from onestop.core.text import localize


def _text(value: Any, country: Country) -> str:
    languages = list(country.languages)
    return localize(value, get_language() or (languages[0] if languages else "en"), languages)


def _state_name(state: str) -> str:
    names = {
        AppointmentState.BOOKED.value: _("Booked"),
        AppointmentState.CANCELLED.value: _("Cancelled"),
        AppointmentState.ARRIVED.value: _("Arrived"),
        AppointmentState.NO_SHOW.value: _("Missed"),
    }
    return names.get(state, state)


def _row(appointment: Appointment, now: dt.datetime) -> dict[str, Any]:
    country = appointment.centre.country
    return {
        "appointment": appointment,
        "zone": country.time_zone,
        "centre_name": _text(appointment.centre.name, country) or appointment.centre.code,
        "address": _text(appointment.centre.address, country),
        "group_name": _text(appointment.group.name, country) or appointment.group.code,
        "state_name": _state_name(appointment.state),
        "can_cancel": appointments.can_cancel(appointment, now),
        "upcoming": appointment.state == AppointmentState.BOOKED
        and appointment.slot_end > now,
    }


# --- my appointments ---------------------------------------------------------------------


@citizen_required
@require_GET
def my_appointments(request: HttpRequest) -> HttpResponse:
    """My appointments: the upcoming ones first (to cancel), then the rest."""
    now = timezone.now()
    rows = [_row(a, now) for a in appointments.appointments_of(signed_in_user(request))[:100]]
    upcoming = sorted((r for r in rows if r["upcoming"]),
                      key=lambda r: r["appointment"].slot_start)
    past = [r for r in rows if not r["upcoming"]]
    return render(request, "centres/appointments/list.html",
                  {"upcoming": upcoming, "past": past})


@citizen_required
@require_GET
def appointment_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One of my appointments: its code, where and when; the confirmation after booking."""
    try:
        appointment = appointments.own_appointment(signed_in_user(request), code)
    except NotFound:
        raise Http404("no such appointment") from None
    return render(request, "centres/appointments/detail.html",
                  {"row": _row(appointment, timezone.now()),
                   "early_minutes": int(appointments.ARRIVE_EARLIEST.total_seconds() // 60),
                   "no_show_minutes": appointments.queue_rules(
                       appointment.centre.country).no_show_after_minutes})


@citizen_required
@require_POST
def cancel_appointment(request: HttpRequest, code: str) -> HttpResponse:
    try:
        appointment = appointments.cancel(citizen=signed_in_user(request), code=code)
    except NotFound:
        raise Http404("no such appointment") from None
    except Conflict as exc:
        messages.error(request, _("The appointment cannot be cancelled: %(reason)s")
                       % {"reason": exc})
        return redirect("centres:appointments")
    messages.success(request, _("Appointment %(code)s is cancelled.")
                     % {"code": appointment.code})
    return redirect("centres:appointments")


# --- book --------------------------------------------------------------------------------


def _pick(options: list[Any], wanted: str, key: Callable[[Any], str]) -> Any | None:
    for option in options:
        if key(option) == wanted:
            return option
    return None


@citizen_required
@require_http_methods(["GET", "POST"])
def new_appointment(request: HttpRequest) -> HttpResponse:
    """Book: choose a region, then a centre, then a group and a day, then a free slot."""
    country = current_country(request)
    if country is None:
        raise Http404("no country loaded")
    data = request.POST if request.method == "POST" else request.GET
    now = timezone.now()
    regions = list(appointments.regions_with_centres(country))
    region: Region | None = _pick(regions, data.get("region", ""), lambda r: r.code)
    centres: list[Centre] = list(appointments.bookable_centres(country, region)) \
        if region else []
    centre: Centre | None = _pick(centres, data.get("centre", ""), lambda c: str(c.pk))
    groups: list[ServiceGroup] = appointments.groups_served(centre) if centre else []
    group: ServiceGroup | None = _pick(groups, data.get("group", ""), lambda g: g.code)
    days = appointments.open_days(centre, now) if centre else []
    day: dt.date | None = _pick(days, data.get("date", ""), lambda d: d.isoformat())
    error = ""
    status = 200
    if request.method == "POST":
        if centre is None or group is None or day is None:
            error = _("Choose a centre, a group and a day first.")
            status = 422
        else:
            slot_start = _parse_moment(data.get("slot", ""))
            if slot_start is None:
                error = _("Choose a time.")
                status = 422
            else:
                try:
                    appointment = appointments.book(citizen=signed_in_user(request), centre=centre,
                                                    group=group, slot_start=slot_start)
                except QueueError as exc:
                    error = _("This time cannot be booked: %(reason)s") % {"reason": exc}
                    status = 409 if isinstance(exc, Conflict) else 422
                else:
                    messages.success(request, _(
                        "Your appointment is booked. Your code is %(code)s: type it at the "
                        "centre's kiosk when you come."
                    ) % {"code": appointment.code})
                    return redirect("centres:appointment", code=appointment.code)
    slots = []
    if centre is not None and group is not None and day is not None:
        try:
            slots = appointments.day_slots(centre, group, day, now)
        except QueueError as exc:
            error = error or str(exc)
    zone = calendar_for(country).zone
    return render(request, "centres/appointments/new.html", {
        "regions": [(r, _text(r.name, country) or r.code) for r in regions],
        "region": region,
        "centres": [(c, _text(c.name, country) or c.code, _text(c.address, country))
                    for c in centres],
        "centre": centre,
        "centre_name": _text(centre.name, country) if centre else "",
        "groups": [(g, _text(g.name, country) or g.code) for g in groups],
        "group": group,
        "group_name": _text(group.name, country) if group else "",
        "days": days,
        "day": day,
        "slots": [s for s in slots if s.free > 0],
        "full": bool(slots) and all(s.free < 1 for s in slots),
        "zone": zone,
        "error": error,
    }, status=status)


def _parse_moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
