"""`onestop export lake|cpsv|xes`: data files for other tools.

- `export lake --out DIR`: the assessment's inputs as Parquet files.
- `export cpsv [--country C] [--format jsonld|ttl] --out FILE [--validate]`: the register
  as CPSV-AP 3.2 (onestop.interop.cpsv).
- `export xes --service CODE --period P [--country C] --out FILE`: the event log of a
  service's applications as XES for process mining (onestop.interop.xes).
"""

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
        "with lake.json, for `onestop assess --lake DIR` on DuckDB. `export cpsv --out FILE` "
        "writes the register as CPSV-AP 3.2 (Turtle or JSON-LD). `export xes --service CODE "
        "--period P --out FILE` writes a service's event log as XES for process mining."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        lake = sub.add_parser("lake", help="the assessment's inputs as Parquet files")
        lake.add_argument("--out", required=True, help="the folder to write (created if "
                          "missing; files in it are replaced)")
        cpsv = sub.add_parser("cpsv", help="the register of services as CPSV-AP 3.2")
        cpsv.add_argument("--out", required=True, help="the file to write (replaced)")
        cpsv.add_argument("--country", help="the pack's code, e.g. kz (default: the "
                          "configured country)")
        cpsv.add_argument("--format", dest="fmt", choices=["ttl", "jsonld"], default="ttl",
                          help="Turtle (default) or JSON-LD")
        cpsv.add_argument("--base-url", default="http://127.0.0.1:8000",
                          help="the site's public address; IRIs are minted under "
                          "BASE/id/<country>/ (default http://127.0.0.1:8000)")
        cpsv.add_argument("--validate", action="store_true", help="also check the export "
                          "against the CPSV-AP 3.2 SHACL shapes; fails on any violation")
        xes = sub.add_parser("xes", help="a service's event log as XES for process mining")
        xes.add_argument("--out", required=True, help="the file to write (replaced)")
        xes.add_argument("--service", required=True, help="the service's code")
        xes.add_argument("--period", required=True, help="applications submitted in 2026, "
                         "2026-H2, 2026-Q3 or 2026-07")
        xes.add_argument("--country", help="the pack's code, e.g. kz (default: the "
                         "configured country)")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"]).expanduser()
        try:
            if options["what"] == "cpsv":
                self._cpsv(out, options)
            elif options["what"] == "xes":
                self._xes(out, options)
            else:
                self._lake(out)
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
        except DatabaseError as exc:
            raise CommandError(f"database problem ({str(exc).strip()}); is it reachable and "
                               "migrated (`onestop migrate`)?") from None

    def _lake(self, folder: Path) -> None:
        written = sources.export_lake(folder)
        for name, rows in written.items():
            self.stdout.write(f"  {name}.parquet: {rows} rows")
        self.stdout.write(self.style.SUCCESS(f"lake written to {folder}"))

    def _cpsv(self, out: Path, options: dict[str, Any]) -> None:
        from onestop.interop.exports import ExportError, export_cpsv

        try:
            result = export_cpsv(out=out, country=options["country"], fmt=options["fmt"],
                                 base=options["base_url"], validate=options["validate"])
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"  {result.services} services, {result.triples} triples")
        if result.validation is not None:
            if not result.validation.conforms:
                self.stderr.write(result.validation.report)
                raise CommandError(f"{out} was written but has {result.validation.violations} "
                                   "SHACL violations (report above)")
            self.stdout.write("  valid against the CPSV-AP 3.2 shapes: no violations")
        self.stdout.write(self.style.SUCCESS(f"CPSV-AP written to {out}"))

    def _xes(self, out: Path, options: dict[str, Any]) -> None:
        from onestop.interop.exports import ExportError, export_xes

        try:
            written = export_xes(out=out, service=options["service"], period=options["period"],
                                 country=options["country"])
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"  {written.traces} traces, {written.events} events")
        self.stdout.write(self.style.SUCCESS(f"XES event log written to {out}"))
