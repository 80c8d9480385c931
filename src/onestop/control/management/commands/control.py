"""`onestop control scan`: the periodic violations scan, for cron or a systemd timer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.catalogue.models import Country
from onestop.control import services
from onestop.core.commands import database_problem


class Command(BaseCommand):
    help = (
        "Control of violations: `control scan` finds the violations of the service "
        "standards (deadlines, stage limits, waits, counter times, late complaints, "
        "refusal grounds, extra documents) and records each once. Run it every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        scan = sub.add_parser(
            "scan",
            help="scan for violations (idempotent: a second run records nothing more)",
        )
        scan.add_argument("--country", default="",
                          help="the country code (default: every loaded country)")
        scan.add_argument("--full", action="store_true",
                          help="check every request for documents, not only recent ones")

    def handle(self, *args: Any, **options: Any) -> None:
        code = str(options.get("country") or "").strip().lower()
        try:
            countries = list(Country.objects.order_by("code"))
            if code:
                countries = [c for c in countries if c.code == code]
                if not countries:
                    raise CommandError(f"no country {code!r} is loaded (`onestop load-pack`)")
            for country in countries:
                result = services.scan(country, full=bool(options.get("full")))
                kinds = ", ".join(f"{kind} {len(rows)}" for kind, rows in result.new.items()
                                  if rows)
                self.stdout.write(
                    f"{country.code}: new violations: {result.total}"
                    + (f" ({kinds})" if kinds else "")
                    + f"; notices queued: {result.notified}"
                )
        except DatabaseError as exc:
            raise database_problem(exc) from None
