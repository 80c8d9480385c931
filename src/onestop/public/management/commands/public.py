"""`onestop public refresh [--country C] [--period P]`: compute the public site's snapshots."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.catalogue.models import Country
from onestop.public import services


class Command(BaseCommand):
    help = (
        "Public monitoring: `public refresh` computes every figure the public pages show "
        "(national picture, rankings, agencies, services, centres, methodology, "
        "violations and complaints) and records today's audit chain head."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        refresh = sub.add_parser("refresh", help="compute the snapshots of the public pages")
        refresh.add_argument("--country", help="the country code (default: every loaded "
                             "country)")
        refresh.add_argument("--period", help="2026, 2026-H2, 2026-Q3 or 2026-07 (default: "
                             "the latest period with a stored agency assessment, else the "
                             "current quarter)")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options.get("country")
        try:
            if code:
                countries = list(Country.objects.filter(code=code))
                if not countries:
                    raise CommandError(f"no country {code!r} is loaded "
                                       f"(`onestop load-pack {code}`)")
            else:
                countries = list(Country.objects.order_by("code"))
                if not countries:
                    raise CommandError("no country is loaded (`onestop load-pack kz`)")
            for country in countries:
                try:
                    index = services.refresh(country, period=options.get("period"))
                except services.RefreshError as exc:
                    raise CommandError(str(exc)) from None
                counts = services.refresh_counts(index)
                self.stdout.write(
                    f"{country.code} {index['period']}: snapshots taken at "
                    f"{index['taken_at']} ({counts['agencies']} agencies, "
                    f"{counts['services']} services, {counts['centres']} centres); audit "
                    f"head {index['head']['sequence']}:{index['head']['hash']}")
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database: {str(exc).strip()} "
                               "(is it reachable and migrated? `onestop migrate`)") from None
