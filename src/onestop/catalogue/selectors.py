"""Reads of the register."""

from __future__ import annotations

import copy
import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.catalogue.models import Agency, Country, LifeSituation, Service, ServiceStandard
from onestop.core.calendar import WorkingCalendar
from onestop.core.revisions import RevisionCache
from onestop.core.text import localize, search_words


def countries() -> QuerySet[Country]:
    return Country.objects.all()


def country_by_code(code: str) -> Country | None:
    return Country.objects.filter(code=code).first()


def agency_subtree_ids(root_ids: list[int]) -> set[int]:
    """The given agencies and all their sub-units, at any depth."""
    found = set(root_ids)
    frontier = set(root_ids)
    while frontier:
        frontier = set(
            Agency.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        ) - found
        found |= frontier
    return found


def agencies_in_scope(user: User) -> QuerySet[Agency]:
    """The agencies a staff member acts for: their agency and its sub-units."""
    if user.agency_id is None:
        return Agency.objects.none()
    return Agency.objects.filter(pk__in=agency_subtree_ids([user.agency_id]))


def search_services(
    *,
    country: Country,
    query: str = "",
    agency: str | None = None,
    life_situation: str | None = None,
) -> QuerySet[Service]:
    """Services of `country` whose names or descriptions, in any language, contain every
    word of `query`; optionally only those of an agency (with its sub-units) or a life
    situation."""
    services = Service.objects.filter(country=country)
    for word in search_words(query):
        services = services.filter(search_text__contains=word)
    if agency:
        root = Agency.objects.filter(country=country, code=agency).values_list("pk", flat=True)
        services = services.filter(provider_id__in=agency_subtree_ids(list(root)))
    if life_situation:
        services = services.filter(life_situations__code=life_situation)
    return (
        services.select_related("provider", "country")
        .prefetch_related(
            "life_situations",
            Prefetch("versions", queryset=ServiceStandard.objects.order_by("-valid_from")),
        )
        .distinct()
        .order_by("code")
    )


def local_today(country: Country, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the country is (deadlines and standards change at its midnight)."""
    return (now or timezone.now()).astimezone(ZoneInfo(country.time_zone)).date()


def standard_in_force(service: Service, on: dt.date) -> ServiceStandard | None:
    """The version of the service's standard in force on `on` (one query)."""
    return service.versions.filter(valid_from__lte=on).order_by("-valid_from").first()


# No country's date is ahead of UTC by more than 14 hours (UTC+14, Line Islands).
_LATEST_OFFSET = dt.timedelta(hours=14)
# The newest version of a service's standard by (country, code, latest possible local
# date), kept per process until the register changes (onestop.core.revisions).
_newest: RevisionCache[tuple[str, str, dt.date], ServiceStandard] = RevisionCache("catalogue")


def service_to_apply_for(
    country_code: str, code: str, now: dt.datetime | None = None
) -> tuple[Service, ServiceStandard | None] | None:
    """What a submission needs of the register: the service (with its country and
    provider, and `starts_proactive`: whether its issued applications start another
    service) and the version of its standard in force on the country's date at `now`
    (None when none is); None when the country has no such service.

    One query, and none while the register is unchanged since this process read it;
    callers get copies, so what one submission sets on them stays with it."""
    now = now or timezone.now()
    latest = (now + _LATEST_OFFSET).date()
    newest = _newest.get((country_code, code, latest), lambda: (
        ServiceStandard.objects.select_related("service__country", "service__provider")
        .filter(service__country__code=country_code, service__code=code,
                valid_from__lte=latest)
        .annotate(starts_proactive=Exists(
            Service.objects.filter(proactive_after_id=OuterRef("service_id"))))
        .order_by("-valid_from")
        .first()
    ))
    if newest is None:  # no service, or none of its versions is in force yet
        found = (Service.objects.select_related("country", "provider")
                 .filter(country__code=country_code, code=code).first())
        return None if found is None else (found, None)
    version = copy.copy(newest)
    version.service = service = copy.copy(newest.service)
    service.starts_proactive = version.starts_proactive  # type: ignore[attr-defined]
    today = local_today(service.country, now)
    if version.valid_from <= today:
        return service, version
    # the newest version starts later today in UTC terms: the one before may be in force
    return service, standard_in_force(service, today)


def current_standard(service: Service, on: dt.date) -> ServiceStandard | None:
    """The version in force on `on`, from prefetched versions when present."""
    for version in service.versions.all():  # ordered newest first
        if version.valid_from <= on:
            return version
    return None


def service_by_code(country: Country, code: str) -> Service | None:
    return (
        Service.objects.filter(country=country, code=code)
        .select_related("provider", "country")
        .prefetch_related(
            "life_situations",
            Prefetch("versions", queryset=ServiceStandard.objects.order_by("-valid_from")),
        )
        .first()
    )


def life_situations(country: Country) -> QuerySet[LifeSituation]:
    return LifeSituation.objects.filter(country=country).order_by("number", "code")


def agencies(country: Country) -> QuerySet[Agency]:
    return Agency.objects.filter(country=country).select_related("parent").order_by("code")


_calendars: dict[tuple[str, str], WorkingCalendar] = {}


def calendar_for(country: Country) -> WorkingCalendar:
    """The country's working calendar, built once per process and set of rules (it caches
    each year's holidays, which is what makes deadline arithmetic cheap)."""
    key = (country.code, json.dumps([country.calendar_rules, country.time_zone], sort_keys=True))
    calendar = _calendars.get(key)
    if calendar is None:
        calendar = _calendars[key] = country.working_calendar()
    return calendar


def national_id_label(country: Country | None) -> str:
    """What a form calls the citizen's national ID: the general words, with the country's
    own name of it from its pack ("National ID number (IIN)", "(PINFL)") in the reader's
    language."""
    label = _("National ID number")
    name = (localize(country.national_id_name, get_language() or "en", country.languages)
            if country is not None else "")
    return f"{label} ({name})" if name else label
