"""`onestop opendata build`: write the open data (CSV, JSON, Parquet per period, the data
dictionary, the licence, the manifest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.catalogue.models import Country
from onestop.opendata import build
from onestop.quality.selectors import valid_period


class Command(BaseCommand):
    help = ("Open data: `build` writes, per period, the datasets per service, agency, region "
            "and centre as CSV, JSON and Parquet (small cells suppressed), the rating "
            "comments with personal data removed, the Single Digital Gateway statistics, the "
            "data dictionary, the licence and a manifest.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        b = sub.add_parser("build", help="write the open data files")
        b.add_argument("--country", help="a loaded country's code (default: every country)")
        b.add_argument("--period", action="append", default=[], metavar="P",
                       help="2026, 2026-H2, 2026-Q3 or 2026-07; repeatable (default: every "
                       "quarter and year with applications)")
        b.add_argument("--out", help="the output folder (default: $ONESTOP_DATA_DIR/opendata "
                       "or ONESTOP_OPENDATA_DIR)")

    def handle(self, *args: Any, **options: Any) -> None:
        periods = [p.strip() for p in options["period"]]
        for period in periods:
            if not valid_period(period):
                raise CommandError(f"period {period!r}: use a year (2026), a half (2026-H2), "
                                   "a quarter (2026-Q3) or a month (2026-07)")
        code = options["country"]
        countries = list(Country.objects.filter(code=code) if code else Country.objects.all())
        if not countries:
            raise CommandError(f"no country {code!r} is loaded (`onestop load-pack {code}`)"
                               if code else "no country is loaded (`onestop load-pack kz`)")
        out = Path(options["out"]).expanduser() if options["out"] else build.default_dir()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot write to {out}: {exc.strerror}") from None
        total = 0
        try:
            for country in countries:
                code = country.code

                def progress(period: str, code: str = code) -> None:
                    self.stdout.write(f"{code} {period}: written")

                written = build.build(out, country=country, periods=periods or None,
                                      progress=progress)
                total += len(written)
        except build.OpenDataError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"the database could not be read: {exc}") from None
        self.stdout.write(f"{total} files written to {out} (manifest: {out / build.MANIFEST})")
