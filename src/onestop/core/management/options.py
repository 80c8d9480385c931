"""The options the analytics commands (`onestop assess`, `onestop integrity`, `onestop
bottlenecks`) share, read and checked: a wrong one is a CommandError saying what to give."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from onestop.catalogue.models import Country


def country_option(code: str | None) -> Country:
    """The loaded country `--country` names; without it, the only one loaded."""
    if code:
        country = Country.objects.filter(code=code).first()
        if country is None:
            raise CommandError(f"no country {code!r} is loaded (`onestop load-pack {code}`)")
        return country
    countries = list(Country.objects.all()[:2])
    if len(countries) != 1:
        raise CommandError("say which country with --country (e.g. --country kz)")
    return countries[0]


def as_of_option(value: str | None) -> dt.datetime | None:
    """`--as-of` as an aware date-time (UTC when it names no zone); None without it."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of {value!r} is not an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
