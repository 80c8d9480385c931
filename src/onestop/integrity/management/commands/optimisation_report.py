"""`onestop optimisation-report --agency CODE --period P`: the three changes that would
save an agency's applicants the most days."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import translation

from onestop.core.management.options import as_of_option, country_option
from onestop.integrity import bottleneck_services as services
from onestop.integrity import optimisation
from onestop.integrity.optimisation_pdf import render_pdf
from onestop.integrity.optimisation_text import change_text


class Command(BaseCommand):
    help = (
        "The optimisation report of one agency over one period: the three changes that "
        "would save its applicants the most citizen-days (a document obtainable from a "
        "state database, a stage that could be automated, an inter-agency wait, an "
        "under-staffed centre), each with its evidence and estimate; --pdf writes it as "
        "PDF. See docs/bottlenecks.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", required=True, help="the agency's code")
        parser.add_argument("--period", required=True,
                            help="2026, 2026-H2, 2026-Q3 or 2026-07 (local dates)")
        parser.add_argument("--country", help="the country code (needed when several are "
                            "loaded)")
        parser.add_argument("--lake", help="read the event log from this folder's Parquet "
                            "files with DuckDB")
        parser.add_argument("--as-of", dest="as_of", help="an ISO date-time: events known by "
                            "then count (default: now)")
        parser.add_argument("--pdf", metavar="FILE", help="write the report as PDF to FILE")
        parser.add_argument("--language", default="en", help="the PDF's language (default en)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            country = country_option(options["country"])
            agency = services.find_agency(country, options["agency"])
            if not services.valid_period(options["period"]):
                raise services.BottleneckError(
                    f"period {options['period']!r}: use a year (2026), a half (2026-H2), a "
                    "quarter (2026-Q3) or a month (2026-07)")
            lake = Path(options["lake"]).expanduser() if options["lake"] else None
            report = optimisation.agency_report(
                country=country, agency=agency, period=options["period"], lake=lake,
                as_of=as_of_option(options["as_of"]))
        except services.BottleneckError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"database problem ({str(exc).strip()}); is it reachable and "
                               "migrated (`onestop migrate`)?") from None
        language = options["language"]
        if language not in country.languages and language != "en":
            raise CommandError(f"--language: one of en, {', '.join(country.languages)}")
        if options["pdf"]:
            target = Path(options["pdf"]).expanduser()
            with translation.override(language):
                data = render_pdf(report, language)
            try:
                target.write_bytes(data)
            except OSError as exc:
                raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
            self.stdout.write(self.style.SUCCESS(f"report written to {target}"))
            return
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{country.code} agency {agency.code}, {report.period}: "
                          f"{len(report.analyses)} services with applications")
        if not report.recommended:
            self.stdout.write("no change found that would save citizen-days")
        with translation.override(language):
            for rank, change in enumerate(report.recommended, start=1):
                self.stdout.write(f"{rank}. {change_text(change, report)} "
                                  f"(~{change.saving_days:.2f} citizen-days)")
