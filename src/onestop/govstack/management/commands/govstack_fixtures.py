from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onestop.applications.errors import ApplicationError
from onestop.catalogue.models import Country
from onestop.govstack.services import FIXTURE_AGENCY, FIXTURE_MEMBER, load_fixtures


class Command(BaseCommand):
    help = (
        "Load the records the GovStack Registration conformance suite expects (its fixed "
        "service, e-form, file and task ids) into a test agency of a loaded country. "
        "Loading again creates nothing new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", default="",
                            help="country code (default: the only loaded country, else kz)")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["country"].lower()
        if code:
            country = Country.objects.filter(code=code).first()
        else:
            countries = list(Country.objects.all()[:2])
            country = countries[0] if len(countries) == 1 else (
                Country.objects.filter(code="kz").first()
            )
        if country is None:
            raise CommandError(
                f"no country {code or 'kz'!r} is loaded: run `onestop load-pack` first"
            )
        try:
            result = load_fixtures(country)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"GovStack fixtures in {country.code} (agency {FIXTURE_AGENCY}, member "
            f"{FIXTURE_MEMBER}): {result.created} created, {result.existing} already there"
        )
