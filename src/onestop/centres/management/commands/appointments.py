"""`onestop appointments remind` and `onestop appointments close-day`: the periodic work
of appointments, for cron or a systemd timer (every few minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from onestop.centres import appointments
from onestop.core.commands import database_problem


class Command(BaseCommand):
    help = (
        "Periodic work of appointments: `appointments remind` queues the reminders due "
        "(24 hours before each slot, once); `appointments close-day` marks the appointments "
        "nobody arrived for as no-shows. Run both every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("remind", help="queue the reminders due now, each appointment once")
        sub.add_parser(
            "close-day",
            help="mark booked appointments whose slot ended more than the country's "
            "no_show_after_minutes ago as no-shows",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["subcommand"] == "remind":
                count = appointments.send_reminders()
                self.stdout.write(f"reminders queued: {count}")
            else:
                count = appointments.mark_no_shows()
                self.stdout.write(f"appointments marked no-show: {count}")
        except DatabaseError as exc:
            raise database_problem(exc) from None
