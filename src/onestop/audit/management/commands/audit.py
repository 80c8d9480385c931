"""`onestop audit verify [--against HEAD]` and `onestop audit head`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.audit import chain, selectors


class Command(BaseCommand):
    help = (
        "Check the audit hash chain: `audit verify` walks every entry and names the first "
        "one altered, removed or inserted; `audit head` prints the head to publish."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify", help="walk the chain; exit 0 when intact, 1 naming the first broken entry"
        )
        verify.add_argument(
            "--against", metavar="HEAD",
            help="a head published earlier (SEQUENCE:HASH as `audit head` prints it, or the "
            "bare hash): it must still be in the chain",
        )
        sub.add_parser("head", help="print the head as SEQUENCE:HASH (0:000…0 when empty)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except DatabaseError as exc:
            raise CommandError(
                f"cannot read the audit chain: {str(exc).strip()} "
                "(is the database reachable and migrated? `onestop migrate`)"
            ) from None

    def _handle(self, options: dict[str, Any]) -> None:
        if options["subcommand"] == "head":
            self.stdout.write(str(selectors.head()))
            return
        against = options.get("against")
        if against is not None:
            try:
                chain.parse_head(against)
            except ValueError as exc:
                raise CommandError(f"--against: {exc}", returncode=2) from None
        started = time.monotonic()

        def progress(count: int) -> None:
            rate = count / max(time.monotonic() - started, 1e-9)
            self.stderr.write(f"verified {count:,} entries ({rate:,.0f} per second)")

        verdict = selectors.verify_chain(expected_head=against, progress=progress)
        if not verdict.ok:
            raise CommandError(f"audit chain broken: {verdict.message}", returncode=1)
        self.stdout.write(self.style.SUCCESS(verdict.message))
