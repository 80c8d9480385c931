"""`onestop demo`: generate a year of realistic history for a loaded country pack."""

from __future__ import annotations

import resource
import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from onestop.catalogue.models import Country
from onestop.catalogue.selectors import calendar_for
from onestop.control.services import alert_share
from onestop.demo.generator import CHANNELS, DEFAULT_MIX, Params
from onestop.demo.writer import DemoError, Result, demo_applications, generate


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO, *, enabled: bool = True) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.enabled = enabled
        self.done = 0
        self.started = time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last_tenth = -1

    def __call__(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        share = min(self.done / self.total, 1.0)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate and self.done < self.total else 0
        if self.tty:
            filled = int(share * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.stream.write(
                f"\r[{bar}] {share:4.0%} {self.done:,}/{self.total:,} applications "
                f"{rate:,.0f}/s, {left:,.0f} s left  "
            )
            self.stream.flush()
        elif int(share * 10) > self._last_tenth:
            self._last_tenth = int(share * 10)
            self.stream.write(
                f"demo: {share:4.0%} {self.done:,}/{self.total:,} applications "
                f"({rate:,.0f}/s)\n"
            )

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def parse_mix(text: str) -> dict[str, float]:
    """`portal=0.45,centre=0.5,proactive=0.05` as a mapping; CommandError when malformed."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in CHANNELS:
            raise CommandError(
                f"--channel-mix: {part.strip()!r} is not CHANNEL=SHARE with a channel among "
                f"{', '.join(CHANNELS)}", returncode=2,
            )
        try:
            mix[name] = float(value)
        except ValueError:
            raise CommandError(f"--channel-mix: {value!r} is not a number", returncode=2) from None
    return mix


def _share(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a share such as 0.06", returncode=2) from None


class Command(BaseCommand):
    help = (
        "Generate a realistic, deterministic history of applications for a loaded country "
        "pack, through the same tables a real submission writes: numbers, standards, "
        "routing, deadlines, events, outcomes, payments and chained audit entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", default="kz", help="a loaded country pack code")
        parser.add_argument("--applications", type=int, default=20_000, metavar="N",
                            help="how many applications (default 20,000)")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the "
                            "same history (default 1)")
        parser.add_argument("--year", type=int, default=None,
                            help="the year of the history (default: this year up to "
                            "yesterday, with its latest applications still open; in January "
                            "and February, last year)")
        parser.add_argument(
            "--channel-mix", default=",".join(f"{k}={v:g}" for k, v in DEFAULT_MIX.items()),
            help="shares of the submission channels, adding up to 1 "
            f"(default {','.join(f'{k}={v:g}' for k, v in DEFAULT_MIX.items())}; "
            f"channels: {', '.join(CHANNELS)})",
        )
        parser.add_argument("--late", type=_share, default=0.06,
                            help="share of completed applications finished after their "
                            "deadline (default 0.06)")
        parser.add_argument("--refused", type=_share, default=0.08,
                            help="share of applications refused (default 0.08)")
        parser.add_argument("--sent-back", type=_share, default=0.12,
                            help="share of applications sent back to the applicant for "
                            "documents, the clock stopped (default 0.12)")
        parser.add_argument("--withdrawn", type=_share, default=0.02,
                            help="share of applications withdrawn (default 0.02)")
        parser.add_argument("--replace", action="store_true",
                            help="delete this country's demo data first (and only that)")
        parser.add_argument("--skip-existing", action="store_true",
                            help="do nothing, successfully, when the country already has "
                            "demo data (for `make run`)")
        parser.add_argument("--chunk-size", type=int, default=20_000, metavar="N",
                            help="applications written per transaction (default 20,000)")
        parser.add_argument("--dry-run", action="store_true",
                            help="plan the history and print the summary without writing")
        parser.add_argument("--no-tickets", action="store_true",
                            help="leave out the centres' history (tickets, appointments, "
                            "counter sessions) of the applications submitted at counters")
        parser.add_argument("--no-feedback", action="store_true",
                            help="leave out ratings, complaints and violations (and the "
                            "control scan over the history)")
        parser.add_argument("--serial", action="store_true",
                            help="plan and write in this one process (by default a second "
                            "process plans while this one writes; the history is the same)")
        parser.add_argument("--anomalies", action="store_true",
                            help="inject known misconduct, one pattern per red flag, into "
                            "the last full quarter and write the ground truth "
                            "(docs/redflags.md)")
        parser.add_argument("--anomalies-out", metavar="FILE", default=None,
                            help="where to write the ground truth (default "
                            "$ONESTOP_DATA_DIR/anomalies.json)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        code = options["country"]
        country = Country.objects.filter(code=code).first()
        if country is None:
            raise CommandError(
                f"country {code!r} is not loaded: run `onestop load-pack {code}` first",
                returncode=1,
            )
        if options["skip_existing"] and not options["replace"] and \
                demo_applications(country).exists():
            self.stdout.write(f"{code} already has demo data: nothing to do")
            return
        now = timezone.now()
        today = now.astimezone(calendar_for(country).zone).date()
        # this year, unless it has barely begun: then last year, a whole one
        year = options["year"] or (today.year if today.month > 2 else today.year - 1)
        params = Params(
            applications=options["applications"],
            seed=options["seed"],
            year=year,
            now=now,
            channel_mix=parse_mix(options["channel_mix"]),
            late=options["late"],
            refused=options["refused"],
            sent_back=options["sent_back"],
            withdrawn=options["withdrawn"],
            chunk_size=options["chunk_size"],
            batch=f"{code}-{year}-seed{options['seed']}",
            tickets=not options["no_tickets"],
            feedback=not options["no_feedback"],
            alert_share=alert_share(),
        )
        stream = getattr(self.stderr, "_out", sys.stderr)
        progress = Progress(params.applications, stream, enabled=options["verbosity"] > 0)
        try:
            result = generate(code, params, replace=options["replace"],
                              dry_run=options["dry_run"], progress=progress,
                              pipeline=False if options["serial"] else None)
        except DemoError as exc:
            raise CommandError(str(exc), returncode=1) from None
        finally:
            progress.close()
        self._report(code, params, result, dry_run=options["dry_run"])
        if options["anomalies"] and not options["dry_run"]:
            from onestop.integrity.anomalies import AnomalyError, demo_anomalies
            try:
                line = demo_anomalies(code, options["anomalies_out"], options["seed"])
            except AnomalyError as exc:
                raise CommandError(str(exc), returncode=1) from None
            if self.verbosity:
                self.stdout.write(line)

    def _report(self, code: str, params: Params, result: Result, *, dry_run: bool) -> None:
        if self.verbosity == 0:
            return
        s, w = result.summary, result.stats
        n = max(s.applications, 1)
        rate = s.applications / max(result.seconds, 1e-9)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out = self.stdout.write
        for warning in result.warnings:
            self.stderr.write(f"demo: warning: {warning}")
        verb = "planned (dry run, nothing written)" if dry_run else "generated"
        out(self.style.SUCCESS(
            f"Demo history for {code} {verb}: {s.applications:,} applications submitted "
            f"{s.first_day} to {s.last_day}, seed {params.seed}"
        ))
        if result.deleted:
            out(f"  replaced:  {result.deleted:,} demo applications of the previous run deleted")

        def shares(counts: dict[str, int]) -> str:
            return ", ".join(f"{k} {v:,} ({v / n:.1%})"
                             for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))

        out(f"  outcome:   {shares(s.by_outcome)}")
        out(f"  channel:   {shares(s.by_channel)}")
        late_share = s.late / s.completed if s.completed else 0.0
        out(f"  late:      {s.late:,} of {s.completed:,} completed ({late_share:.1%}); "
            f"sent back for documents: {s.sent_back:,} ({s.sent_back / n:.1%})")
        out(f"  rows:      {s.events:,} events, {s.payments:,} payments, {s.offers:,} proactive "
            f"offers" + ("" if dry_run else f", {w.audit:,} audit entries (head "
                         f"{w.head.sequence}:{w.head.hash[:16]}…), {result.accounts:,} "
                         "demo accounts created"))
        if s.tickets:
            t = max(s.tickets, 1)
            kinds = ", ".join(f"{k} {v:,} ({v / t:.1%})" for k, v in sorted(
                s.by_ticket.items(), key=lambda kv: -kv[1]))
            out(f"  centres:   {s.tickets:,} tickets ({kinds}), {s.slices:,} slices, "
                f"{s.sessions:,} counter sessions, {s.appointments:,} appointments")
        f = s.feedback
        if f.ratings or f.ticket_ratings or f.complaints:
            rated = f.ratings + f.ticket_ratings
            out(f"  feedback:  {f.ratings:,} ratings of applications and {f.ticket_ratings:,} "
                f"of tickets ({f.alerts / max(rated, 1):.1%} alerts to supervisors and "
                f"control); {f.complaints:,} complaints: {f.late_answers:,} answered late, "
                f"{f.escalated:,} escalated to the control body, {f.upheld:,} upheld in "
                f"whole or part, {f.refunds:,} refunds flagged")
        found: dict[str, int] = dict(f.violations)
        for kind, count in result.scanned.items():
            found[kind] = found.get(kind, 0) + count
        if any(found.values()):
            listed = ", ".join(f"{k} {v:,}" for k, v in sorted(found.items(), key=lambda kv:
                                                                  -kv[1]) if v)
            scanned = sum(result.scanned.values())
            out(f"  violations: {sum(found.values()):,} ({listed})"
                + ("" if dry_run else f"; {scanned:,} of them found by the control scans run "
                   "over the history"))
        if s.overlaps:
            self.stderr.write(f"demo: warning: {s.overlaps:,} counter applications found no "
                              "free counter of their group (served over another ticket, or "
                              "without a ticket)")
        rows = w.applications + w.events + w.payments + w.offers + w.audit + w.tickets + \
            w.slices + w.appointments + w.sessions + w.ratings + w.complaints + \
            w.complaint_events + w.violations
        out(f"  time:      {result.seconds:,.1f} s: {rate:,.0f} applications/s"
            + ("" if dry_run else f", {rows / max(result.seconds, 1e-9):,.0f} rows/s (writing "
               f"{w.seconds:,.1f} s)") + f"; peak memory {peak:,.0f} MB")
        if self.verbosity > 1 and w.timings:
            out("  writing:   " + ", ".join(f"{k} {v:,.1f} s" for k, v in w.timings.items()))
