"""`onestop complaints escalate`: the periodic work of complaints, for cron or a systemd
timer (every few minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from onestop.core.commands import database_problem
from onestop.feedback import services


class Command(BaseCommand):
    help = (
        "Periodic work of complaints: `complaints escalate` takes every complaint the "
        "provider has not decided by its deadline (extended or not) to the control body, "
        "once, and records the late answer as a violation. Run it every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser(
            "escalate",
            help="escalate the overdue provider-level complaints to the control body "
            "(idempotent: a second run escalates nothing more)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            escalated = services.escalate_overdue()
        except DatabaseError as exc:
            raise database_problem(exc) from None
        self.stdout.write(f"complaints escalated to the control body: {len(escalated)}")
