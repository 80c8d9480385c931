"""`onestop integrity flags|evaluate|lake`: corruption-risk red flags (docs/redflags.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onestop.core.management.options import country_option
from onestop.integrity import services
from onestop.integrity.redflags_sources import export_flag_lake

TRUTH_FILE = "anomalies.json"


def default_truth_path() -> Path:
    return Path(os.environ.get("ONESTOP_DATA_DIR") or settings.DATA_DIR) / TRUTH_FILE


class Command(BaseCommand):
    help = ("Corruption-risk red flags: compute and store them for a period (flags), "
            "measure them against the ground truth of `onestop demo --anomalies` "
            "(evaluate), or write their tables to a Parquet lake (lake).")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        flags = sub.add_parser("flags", help="compute, store and list the raised flags")
        flags.add_argument("--period", required=True, help="2026, 2026-H2, 2026-Q3 or 2026-07")
        flags.add_argument("--country", help="a loaded country code (default: the only one)")
        flags.add_argument("--lake", help="read the Parquet lake in this folder instead of "
                           "the live database")
        flags.add_argument("--pack", help="a pack folder whose integrity.yaml to use")
        flags.add_argument("--top", type=int, default=20, help="how many to print (default 20)")
        flags.add_argument("--json", action="store_true", help="print the run as JSON")
        ev = sub.add_parser("evaluate", help="precision and recall per flag against a truth")
        ev.add_argument("--truth", help=f"the ground-truth file (default "
                        f"$ONESTOP_DATA_DIR/{TRUTH_FILE})")
        ev.add_argument("--period", help="the period (default: the truth file's)")
        ev.add_argument("--country", help="a loaded country code (default: the truth's)")
        ev.add_argument("--lake", help="read the Parquet lake in this folder")
        ev.add_argument("--json", action="store_true", help="print the report as JSON")
        lake = sub.add_parser("lake", help="write the red flags' tables as Parquet")
        lake.add_argument("folder", help="the lake folder (that of `onestop export lake`)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except services.FlagsError as exc:
            raise CommandError(str(exc)) from None

    def _flags(self, options: dict[str, Any]) -> None:
        country = country_option(options["country"])
        lake = Path(options["lake"]) if options["lake"] else None
        pack = Path(options["pack"]) if options["pack"] else None
        run = services.run_flags(country=country, period=options["period"], lake=lake,
                                 pack=pack)
        results = list(run.results.order_by("-score", "pk"))
        totals: dict[tuple[str, int], float] = {}
        for r in results:
            totals[(r.subject_kind, r.subject_id)] = totals.get(
                (r.subject_kind, r.subject_id), 0.0) + r.score
        if options["json"]:
            self.stdout.write(json.dumps({
                "run": run.pk, "country": country.code, "period": run.period,
                "config_version": run.config_version, "source": run.source,
                "results": [{
                    "subject_kind": r.subject_kind, "subject_id": r.subject_id,
                    "flag": r.flag, "service_id": r.service_id, "value": r.value, "z": r.z,
                    "n": r.n, "hits": r.hits, "peers_n": r.peers_n, "score": r.score,
                    "evidence": r.evidence} for r in results],
            }, indent=2))
            return
        self.stdout.write(f"red flags of {country.code} {run.period} (run {run.pk}, config "
                          f"{run.config_version}, {run.source}): {len(results)} raised for "
                          f"{len(totals)} subjects")
        ranked = sorted(totals.items(), key=lambda kv: -kv[1])[: options["top"]]
        for (kind, subject), total in ranked:
            mine = [r for r in results if (r.subject_kind, r.subject_id) == (kind, subject)]
            detail = ", ".join(f"{r.flag} z={r.z:.1f} ({r.hits}/{r.n})" for r in mine)
            self.stdout.write(f"  {total:7.2f}  {kind}:{subject}  {detail}")

    def _evaluate(self, options: dict[str, Any]) -> None:
        path = Path(options["truth"]) if options["truth"] else default_truth_path()
        if not path.exists():
            raise CommandError(f"{path} is missing: run `onestop demo --anomalies` first")
        try:
            truth = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: not a ground-truth file ({exc})") from None
        if not isinstance(truth, dict):
            raise CommandError(f"{path}: not a ground-truth file")
        country = country_option(options["country"] or truth.get("country"))
        period = options["period"] or truth.get("period")
        if not period:
            raise CommandError("say which period with --period")
        lake = Path(options["lake"]) if options["lake"] else None
        raised = services.compute(country=country, period=period, lake=lake)
        report = services.evaluate(truth, raised)
        if options["json"]:
            self.stdout.write(json.dumps({"country": country.code, "period": period,
                                          "flags": report}, indent=2))
            return
        self.stdout.write(f"red flags of {country.code} {period} against {path}:")
        self.stdout.write(f"  {'flag':22} {'expected':>8} {'raised':>6} {'precision':>9} "
                          f"{'recall':>6} {'evidence':>8}")
        for code, row in report.items():
            self.stdout.write(
                f"  {code:22} {row['expected']:8d} {row['raised']:6d} {row['precision']:9.2f} "
                f"{row['recall']:6.2f} {row['evidence_recall']:8.2f}")
        worst = min(min(r["precision"], r["recall"]) for r in report.values())
        self.stdout.write(f"  lowest precision or recall: {worst:.2f}")

    def _lake(self, options: dict[str, Any]) -> None:
        written = export_flag_lake(Path(options["folder"]))
        self.stdout.write("red-flag tables written: " + ", ".join(
            f"{name} {rows:,}" for name, rows in written.items()))

