"""`onestop assess`: compute every indicator and score of one period and store the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.catalogue.models import Country
from onestop.catalogue.packs import SHIPPED_PACKS
from onestop.core.management.options import as_of_option, country_option
from onestop.quality import services
from onestop.quality.methodology import SCOPES
from onestop.quality.models import AssessmentRun, Methodology


def _methodology(country: Country, pack: str | None) -> Methodology:
    folder = Path(pack).expanduser() if pack else SHIPPED_PACKS / country.code
    if (folder / services.METHODOLOGY_FILE).exists():
        return services.load_methodology(country=country,
                                         definition=services.read_methodology(folder))
    if pack:
        raise CommandError(f"{folder / services.METHODOLOGY_FILE} is missing")
    stored = Methodology.objects.filter(country=country).order_by("-loaded_at", "-pk").first()
    if stored is None:
        raise CommandError(f"no methodology for {country.code}: give the pack with --pack")
    return stored


class Command(BaseCommand):
    help = (
        "Assess the units of one country for one period: every indicator of the "
        "methodology (read from the pack's methodology.yaml, stored as a version) and the "
        "score, computed with Ibis on the live database or on a Parquet lake "
        "(`onestop export lake`), and stored as a run that `--reproduce` computes again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="2026, 2026-H2, 2026-Q3 or 2026-07 (the "
                            "country's local dates)")
        parser.add_argument("--scope", choices=SCOPES, default="agency",
                            help="the units assessed (default: agency)")
        parser.add_argument("--country", help="the country code (needed when several are "
                            "loaded)")
        parser.add_argument("--pack", help="the pack folder whose methodology.yaml to use "
                            "(default: the shipped pack of the country, else the latest "
                            "stored version)")
        parser.add_argument("--lake", help="read the Parquet files of this folder with "
                            "DuckDB instead of the live database")
        parser.add_argument("--as-of", dest="as_of", help="an ISO date-time: outcomes known "
                            "by then count (default: now)")
        parser.add_argument("--reproduce", type=int, metavar="RUN",
                            help="compute the stored run RUN again and say whether the "
                            "results are identical")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        lake = Path(options["lake"]).expanduser() if options["lake"] else None
        try:
            if options["reproduce"] is not None:
                self._reproduce(options["reproduce"], lake)
                return
            if not options["period"]:
                raise CommandError("--period is required (e.g. --period 2026-Q3)")
            as_of = as_of_option(options["as_of"])
            country = country_option(options["country"])
            methodology = _methodology(country, options["pack"])
            run = services.run_assessment(
                country=country, period=options["period"], scope=options["scope"],
                methodology=methodology, lake=lake, as_of=as_of,
            )
        except services.AssessmentError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"database problem ({str(exc).strip()}); is it reachable and "
                               "migrated (`onestop migrate`)?") from None
        self._print(run, options["json"])

    def _reproduce(self, pk: int, lake: Path | None) -> None:
        original = AssessmentRun.objects.filter(pk=pk).first()
        if original is None:
            raise CommandError(f"no assessment run {pk}")
        run = services.reproduce(run=original, lake=lake)
        same = run.results_sha256 == original.results_sha256
        self.stdout.write(f"run {run.pk} reproduces run {original.pk}: "
                          + ("identical results" if same else "DIFFERENT results"))
        if not same:
            raise CommandError("the results differ from the stored run")

    def _print(self, run: AssessmentRun, as_json: bool) -> None:
        results = list(run.results.order_by("rank", "unit_id"))
        results.sort(key=lambda r: (not r.ranked, r.rank or 0, r.unit_id))
        if as_json:
            self.stdout.write(json.dumps({
                "run": run.pk, "country": run.country.code, "period": run.period,
                "scope": run.scope, "methodology": run.methodology.version,
                "example": run.methodology.example, "source": run.source,
                "starts_at": run.starts_at.isoformat(), "ends_at": run.ends_at.isoformat(),
                "as_of": run.as_of.isoformat(),
                "results": [{"unit": r.unit_code, "n": r.n, "ranked": r.ranked,
                             "rank": r.rank, "score": r.score, "band": r.band,
                             "penalty": r.penalty, "values": r.values} for r in results],
            }, ensure_ascii=False, indent=2))
            return
        label = " (EXAMPLE methodology, not law)" if run.methodology.example else ""
        self.stdout.write(
            f"run {run.pk}: {run.country.code} {run.period} by {run.scope}, methodology "
            f"{run.methodology.version}{label}, {run.source}"
        )
        self.stdout.write(f"{'rank':>4}  {'unit':<16} {'n':>6} {'score':>7}  band")
        for r in results:
            rank = str(r.rank) if r.ranked else "-"
            score = "" if r.score is None else f"{r.score:.2f}"
            note = "" if r.ranked else "  (not ranked)"
            self.stdout.write(f"{rank:>4}  {r.unit_code:<16} {r.n:>6} {score:>7}  "
                              f"{r.band}{note}")
