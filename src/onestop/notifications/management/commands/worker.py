from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from onestop.notifications import conf
from onestop.notifications.channels import build_channels
from onestop.notifications.delivery import Worker


class Command(BaseCommand):
    help = (
        "Send queued notifications (email, SMS, webhooks, the outbox file) with retries and "
        "backoff. Runs until stopped; SIGTERM or Ctrl-C stops it after the current message."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="send what is due now, then exit"
        )
        parser.add_argument(
            "--batch", type=int, default=50, help="messages claimed at a time (default 50)"
        )
        parser.add_argument(
            "--sleep", type=float, default=5.0,
            help="seconds to wait when nothing is due (default 5)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        if options["sleep"] < 0:
            raise CommandError("--sleep must not be negative")
        config = conf.current()

        def echo(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()  # one line per delivery, seen as it happens under a supervisor

        worker = Worker(channels=build_channels(config, echo=echo), config=config)

        def stop(signum: int, frame: FrameType | None) -> None:
            worker.request_stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        self.stdout.write(f"worker {worker.name} started")
        try:
            total = worker.run(
                batch=options["batch"], sleep=options["sleep"], once=options["once"]
            )
        except DatabaseError as exc:
            raise CommandError(
                f"database problem ({exc}); is it reachable and migrated (`onestop migrate`)?"
            ) from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"worker {worker.name} stopped: {total}")
