"""`onestop outbox status|retry|purge`: the outbox's upkeep, for whoever keeps the worker
running."""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone
from django.utils.dateparse import parse_date

from onestop.core.commands import database_problem
from onestop.notifications import selectors, services
from onestop.notifications.models import Channel, Status


def _actor() -> str:
    """Who ran the command, for the audit chain: the operating system's account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name and no passwd entry
        return "cli"


def _day(value: str) -> dt.datetime:
    try:
        day = parse_date(value) if len(value) == 10 else None
    except ValueError:  # the shape of a date, not a day of the calendar
        day = None
    if day is None:
        raise CommandError(f"--since takes a date as YYYY-MM-DD, not {value!r}")
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class Command(BaseCommand):
    help = (
        "The outbox's upkeep: `outbox status` (counts, the oldest message waiting, why "
        "messages died); `outbox retry` (queue dead messages again once their channel is "
        "mended); `outbox purge --older-than DAYS` (remove the recipients and contents of "
        "messages done with)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="counts per status and channel, dead messages")
        status.add_argument("--groups", type=int, default=20,
                            help="groups of dead messages shown (default 20)")
        retry = sub.add_parser(
            "retry", help="queue dead messages again (same idempotency key, attempts from 0)"
        )
        retry.add_argument("--id", type=int, action="append", default=[], dest="ids",
                           metavar="ID", help="a message's id (repeatable)")
        retry.add_argument("--channel", default="", choices=Channel.values)
        retry.add_argument("--template", default="", help="a template code, e.g. result_issued")
        retry.add_argument("--since", default="", metavar="YYYY-MM-DD",
                           help="only messages queued on or after this day")
        retry.add_argument("--all", action="store_true",
                           help="every dead message (needed when nothing else is chosen)")
        retry.add_argument("--dry-run", action="store_true", help="count, change nothing")
        purge = sub.add_parser(
            "purge", help="remove recipients and contents of sent and dead messages"
        )
        purge.add_argument("--older-than", type=int, required=True, metavar="DAYS",
                           help="messages queued more than DAYS days ago (at least 1)")
        purge.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "status":
                self._status(options["groups"])
            elif options["action"] == "retry":
                self._retry(options)
            else:
                self._purge(options)
        except services.OutboxError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise database_problem(exc) from None

    def _status(self, groups: int) -> None:
        if groups < 0:
            raise CommandError("--groups must not be negative")
        now = timezone.now()
        summary = selectors.outbox_summary(now=now, dead_groups=groups)
        channels = list(Channel.values)
        self.stdout.write(f"{'status':<10}" + "".join(f"{c:>10}" for c in channels)
                          + f"{'total':>10}")
        for status in Status.values:
            row = summary.by_status[status]
            self.stdout.write(f"{status:<10}" + "".join(f"{row[c]:>10}" for c in channels)
                              + f"{sum(row.values()):>10}")
        if summary.oldest_due is None:
            self.stdout.write("nothing due to be sent now")
        else:
            minutes = int((now - summary.oldest_due).total_seconds() // 60)
            self.stdout.write(
                f"oldest message waiting: due since "
                f"{timezone.localtime(summary.oldest_due):%Y-%m-%d %H:%M} ({minutes} min)"
            )
        if summary.purged:
            self.stdout.write(f"messages whose personal data was purged: {summary.purged}")
        if summary.dead:
            self.stdout.write("dead messages (channel, template, count, first id, last error):")
            for group in summary.dead:
                self.stdout.write(
                    f"  {group.channel:<8} {group.template:<28} {group.count:>7} "
                    f"#{group.first_id:<8} {group.last_error or '-'}"
                )
            self.stdout.write("queue them again with `onestop outbox retry` once mended")

    def _retry(self, options: dict[str, Any]) -> None:
        chosen = options["ids"] or options["channel"] or options["template"] or options["since"]
        if not chosen and not options["all"]:
            raise CommandError(
                "choose the dead messages (--id, --channel, --template, --since) or "
                "say --all"
            )
        since = _day(options["since"]) if options["since"] else None
        queued, purged = services.retry_dead(
            now=timezone.now(), ids=options["ids"], channel=options["channel"],
            template=options["template"], since=since, actor=_actor(),
            dry_run=options["dry_run"],
        )
        verb = "would queue" if options["dry_run"] else "queued"
        self.stdout.write(f"{verb} {queued} dead message{'s' * (queued != 1)} again")
        if purged:
            self.stdout.write(
                f"left {purged} whose personal data was purged (they cannot be sent)"
            )

    def _purge(self, options: dict[str, Any]) -> None:
        days = options["older_than"]
        if days < 1:
            raise CommandError("--older-than must be at least 1 (days)")
        before = timezone.now() - dt.timedelta(days=days)
        purged = services.purge_personal_data(
            before=before, actor=_actor(), dry_run=options["dry_run"]
        )
        verb = "would purge" if options["dry_run"] else "purged"
        self.stdout.write(
            f"{verb} the recipients and contents of {purged} sent or dead "
            f"message{'s' * (purged != 1)} queued before "
            f"{timezone.localtime(before):%Y-%m-%d %H:%M}"
        )
