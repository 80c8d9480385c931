"""`onestop bottlenecks --service CODE --period P`: the process bottlenecks of a service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.core.management.options import as_of_option, country_option
from onestop.integrity import bottleneck_services as services
from onestop.integrity.bottleneck_sources import export_flow_lake


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class Command(BaseCommand):
    help = (
        "The process bottlenecks of one service over one period: the variants (paths) "
        "applications took, dwell time per stage (median and 90th percentile, calendar "
        "hours and working days), rework loops, inter-agency waits and the share of the "
        "legal deadline each stage uses; computed with Ibis on the live database or, with "
        "--lake, on DuckDB over Parquet (written with --write-lake). See docs/bottlenecks.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--service", help="the service's code in the register")
        parser.add_argument("--period", help="2026, 2026-H2, 2026-Q3 or 2026-07 (local dates)")
        parser.add_argument("--country", help="the country code (needed when several are "
                            "loaded)")
        parser.add_argument("--lake", help="read the event log from this folder's Parquet "
                            "files with DuckDB")
        parser.add_argument("--as-of", dest="as_of", help="an ISO date-time: events known by "
                            "then count (default: now)")
        parser.add_argument("--write-lake", dest="write_lake", metavar="DIR",
                            help="write the event log as Parquet into DIR (beside `onestop "
                            "export lake`) and stop")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["write_lake"]:
                folder = Path(options["write_lake"]).expanduser()
                try:
                    written = export_flow_lake(folder)
                except OSError as exc:
                    raise CommandError(f"cannot write {folder}: {exc.strerror or exc}"
                                       ) from None
                for name, rows in written.items():
                    self.stdout.write(f"  {name}.parquet: {rows} rows")
                self.stdout.write(self.style.SUCCESS(f"event log written to {folder}"))
                return
            if not options["service"] or not options["period"]:
                raise CommandError("--service and --period are required (e.g. --service "
                                   "01010001 --period 2026-Q3)")
            country = country_option(options["country"])
            service = services.find_service(country, options["service"])
            lake = Path(options["lake"]).expanduser() if options["lake"] else None
            result = services.analyse_service(
                country=country, service=service, period=options["period"], lake=lake,
                as_of=as_of_option(options["as_of"]))
        except services.BottleneckError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"database problem ({str(exc).strip()}); is it reachable and "
                               "migrated (`onestop migrate`)?") from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            return
        self._print(result)

    def _print(self, result: services.ServiceAnalysis) -> None:
        a = result.analysis
        write = self.stdout.write
        write(f"{result.country.code} service {result.service.code} "
              f"({result.service.provider.code}), {result.period}, {a.source}: "
              f"{a.applications} applications, {a.finished} finished")
        write(f"slowest stage: {a.slowest_stage or '-'}; most of the deadline: "
              f"{a.most_deadline_stage or '-'}")
        write("variants:")
        for v in a.variants:
            write(f"  {v.applications:>6} {100 * v.share:5.1f}%  {' > '.join(v.path)}")
        write(f"{'stage':<32} {'visits':>6} {'med h':>8} {'p90 h':>8} {'med wd':>7} "
              f"{'p90 wd':>7} {'days':>9} {'deadline':>8}")
        for s in a.stages:
            share = "-" if s.deadline_share is None else f"{100 * s.deadline_share:.0f}%"
            wd = "-" if s.median_working_days is None else f"{s.median_working_days:.2f}"
            wd90 = "-" if s.p90_working_days is None else f"{s.p90_working_days:.2f}"
            write(f"{s.stage:<32} {s.visits:>6} {_hours(s.median_hours):>8} "
                  f"{_hours(s.p90_hours):>8} {wd:>7} {wd90:>7} {s.citizen_days:>9.2f} "
                  f"{share:>8}")
        write(f"rework: {a.loop_applications} applications went round a loop")
        for d in a.documents:
            write(f"  {d.code} ({d.source or 'not in the standard'}): {d.requests} requests, "
                  f"{d.applications} applications, {d.repeated_applications} asked again, "
                  f"{d.citizen_days:.2f} citizen-days")
        for w in a.waits:
            write(f"inter-agency {w.agency}: {w.requests} requests, {w.answered} answered, "
                  f"median {_hours(w.median_hours)} h, {w.citizen_days:.2f} citizen-days, "
                  f"{w.over_limit} over the limit")
