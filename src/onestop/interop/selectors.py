"""Reads behind the interchange formats: the register in force on a day, and the event
log of one service's applications in a period, streamed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Prefetch

from onestop.applications.models import ApplicationEvent
from onestop.catalogue.models import Country, Service, ServiceStandard
from onestop.catalogue.selectors import current_standard, local_today
from onestop.interop.cpsv import Entry

CHUNK = 2000


def register(country: Country, on: dt.date | None = None) -> list[Entry]:
    """Every service of the country with the version of its standard in force on `on`
    (the country's today by default); services with no version yet in force are left out.
    """
    day = on or local_today(country)
    services = (
        Service.objects.filter(country=country)
        .select_related("provider", "provider__region", "provider__parent")
        .prefetch_related(
            "life_situations",
            Prefetch("versions", queryset=ServiceStandard.objects.order_by("-valid_from")),
        )
        .order_by("code")
    )
    entries = []
    for service in services:
        standard = current_standard(service, day)
        if standard is not None:
            entries.append(Entry(service=service, standard=standard))
    return entries


@dataclass(frozen=True)
class EventRow:
    """One event of the log, with nothing that names a person: the case is the
    application's public number, the resource a role, the group a unit's code."""

    case: str
    channel: str
    outcome: str
    agency: str
    centre: str
    action: str
    at: dt.datetime
    from_state: str
    to_state: str
    role: str
    clock: str


def event_log(country: Country, service: Service, start: dt.datetime,
              end: dt.datetime) -> Iterator[EventRow]:
    """The events of the service's applications submitted in [start, end), each
    application's events together and in order, read in chunks from a server-side cursor
    (never the whole log in memory). Every event of such an application is included,
    also those after `end`, so each trace is the application's whole history so far."""
    rows = (
        ApplicationEvent.objects.filter(
            application__country=country,
            application__service=service,
            application__submitted_at__gte=start,
            application__submitted_at__lt=end,
        )
        .order_by("application__submitted_at", "application_id", "at", "pk")
        .values_list(
            "application__number", "application__channel", "application__outcome",
            "application__agency__code", "application__centre__code", "action", "at",
            "from_state", "to_state", "actor_role", "clock",
        )
    )
    for (number, channel, outcome, agency, centre, action, at, from_state, to_state, role,
         clock) in rows.iterator(chunk_size=CHUNK):
        yield EventRow(case=number, channel=channel, outcome=outcome, agency=agency,
                       centre=centre or "", action=action, at=at, from_state=from_state,
                       to_state=to_state, role=role, clock=clock)
