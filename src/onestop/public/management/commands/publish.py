"""`onestop publish --out DIR [--country C]`: the public site as static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.catalogue.models import Country
from onestop.public import publish


class Command(BaseCommand):
    help = (
        "Write the public monitoring site as static files (HTML with relative links, every "
        "table as CSV, every page's figures as JSON, the style sheets) for every language "
        "of the pack, from the snapshots of the latest `onestop public refresh`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="the folder to write (created)")
        parser.add_argument("--country", help="the country code (default: the only loaded "
                            "country, else ONESTOP_COUNTRY)")
        parser.add_argument("--no-opendata", action="store_true",
                            help="leave out the open data downloads")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"]).expanduser()
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out}: exists and is not a folder")
        try:
            country = self._country(options.get("country"))
            try:
                files = publish.publish(out, country, opendata=not options["no_opendata"])
            except publish.PublishError as exc:
                raise CommandError(str(exc)) from None
            except OSError as exc:
                raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database: {str(exc).strip()} "
                               "(is it reachable and migrated? `onestop migrate`)") from None
        self.stdout.write(f"{country.code}: {len(files)} files written to {out}")

    def _country(self, code: str | None) -> Country:
        if code:
            country = Country.objects.filter(code=code).first()
            if country is None:
                raise CommandError(f"no country {code!r} is loaded (`onestop load-pack {code}`)")
            return country
        countries = list(Country.objects.order_by("code")[:2])
        if len(countries) == 1:
            return countries[0]
        country = Country.objects.filter(code=settings.ONESTOP_COUNTRY).first()
        if country is None:
            raise CommandError("say which country with --country (e.g. --country kz)")
        return country
