"""`onestop export lake --out DIR`: the assessment's inputs as Parquet files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.quality import sources


class Command(BaseCommand):
    help = (
        "Export data files. `export lake --out DIR` writes the tables the assessment reads "
        "(applications, ratings, complaints, violations, tickets, centres) as Parquet, "
        "with lake.json, for `onestop assess --lake DIR` on DuckDB."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        lake = sub.add_parser("lake", help="the assessment's inputs as Parquet files")
        lake.add_argument("--out", required=True, help="the folder to write (created if "
                          "missing; files in it are replaced)")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["out"]).expanduser()
        try:
            written = sources.export_lake(folder)
        except OSError as exc:
            raise CommandError(f"cannot write {folder}: {exc.strerror or exc}") from None
        except DatabaseError as exc:
            raise CommandError(f"database problem ({str(exc).strip()}); is it reachable and "
                               "migrated (`onestop migrate`)?") from None
        for name, rows in written.items():
            self.stdout.write(f"  {name}.parquet: {rows} rows")
        self.stdout.write(self.style.SUCCESS(f"lake written to {folder}"))
